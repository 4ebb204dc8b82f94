"""``python -m alerting`` as the chart runs it: environment only, /metrics and /healthz, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import REPO, free_port


def test_the_process_serves_passes_and_stops_cleanly_on_sigterm(predictor, prometheus_data, tmp_path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PREDICTOR_URL": predictor.url,
        "PROMETHEUS_URL": prometheus_data.url,
        "ALERTING_PORT": str(port),
        "ALERTING_INTERVAL": "2",
        "ALERTING_MODELS": "disk-eta",
        # the fixture's data end when the session started: count every node of the last day as present
        "ALERTING_DISCOVERY_SECONDS": "86400",
    }
    log = tmp_path / "alerting.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alerting"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline, text = time.monotonic() + 60, ""
        while 'metrics_ai_alerting_passes_total{outcome="success"} 2.0' not in text:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.TransportError:
                continue
        assert 'metrics_ai_disk_days_to_full{cluster="prod-east",mountpoint="/",node="prod-east-worker-0"}' in text
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["last_success"] > 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "pass success" in log.read_text()


def test_model_url_is_repeatable_and_every_entry_arrives() -> None:
    """The chart passes one ``--model-url`` per entry: each must reach the settings, not only the last.

    With no --predictor, a lost entry leaves its model without a URL (exit 2 naming it); both
    arriving lets validation go on to the next missing setting, Prometheus.
    """
    unset = ("PREDICTOR_URL", "PROMETHEUS_URL", "PREDICTOR_MODEL_URLS")
    env = {k: v for k, v in os.environ.items() if k.removeprefix("METRICS_AI_") not in unset}
    args = [
        "--models",
        "disk-eta,io-crisis",
        "--model-url",
        "disk-eta=http://d:1",
        "--model-url",
        "io-crisis=http://i:2",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "alerting", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "no Prometheus" in run.stderr, run.stderr
    one = subprocess.run(
        [sys.executable, "-m", "alerting", *args[:4]], cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert one.returncode == 2 and "no predictor URL for ['io-crisis']" in one.stderr, one.stderr


def test_bad_settings_exit_2_naming_the_setting() -> None:
    env = {**os.environ, "PROMETHEUS_URL": "http://127.0.0.1:1", "PREDICTOR_MODEL_URLS": "disks=http://x"}
    env.pop("PREDICTOR_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "alerting"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 2 and "unknown model(s) ['disks']" in run.stderr, run.stderr
