"""Predictions become alerts, end to end, with every part real.

A backfilled OpenShift cluster in Debian's Prometheus (no ``cluster`` label; CLUSTER_NAME
names it) where one filesystem fills and one node heads into an I/O crisis; disk-eta and
io-crisis trained from that Prometheus by ``python -m training run``; the predictor
process; ``python -m alerting`` run with the arguments the chart gives it; a second
Prometheus (user workload monitoring's part) scraping the client and the predictor and
evaluating the chart's own rendered rules; a real Alertmanager delivering to a webhook.
The expected alerts arrive with their labels and annotations, and nothing else fires.

Only disk-eta and io-crisis are enabled in the chart values (training the others is not
what this test is about): the chart then renders their two entity alerts plus every
product-health alert, and passes ``--models disk-eta,io-crisis`` to the client. The
product-health alerts stay on and must stay silent (models ready and fresh, no reload
failures, passes fresh); MetricsAIRetrainFailed reads kube-state-metrics, absent here,
so its silence proves nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from alerting.settings import MODELS
from metrics_ai.artifacts import ModelStore
from tests.alert_rules import alerts, render_objects, rule_groups, write_rules_file
from tests.alerting.conftest import NO_PROMETHEUS, wait_ready
from tests.alertmanager_fixture import Alertmanager, alertmanager  # noqa: F401 (fixture)
from tests.conftest import REPO, Predictor, free_port
from tests.prometheus_fixture import (
    OPENSHIFT_NODE_NAMES,
    SCRAPE,
    backfill_and_serve,
    openshift_truth,
    prometheus_binaries,
    rules_config,
    start_prometheus,
    stop_process,
)
from tests.prometheus_fixture import wait_ready as prometheus_ready

CLUSTER_NAME = "ocp-e2e"
ENABLED = ("disk-eta", "io-crisis")
FILLING = (OPENSHIFT_NODE_NAMES[1], "/var")
"""The filesystem that fills: 75 % used now, 10 points a day, so 90 % in 1.5 days (CRITICAL: < 3)."""
CRISIS = OPENSHIFT_NODE_NAMES[2]
"""The node whose io_wait climbs 0.06 a day: about 0.23 now, 0.30 (io-crisis's threshold) within a day or so."""
INTERVAL = 10
"""Seconds between the client's passes (``alerting.interval``; the chart's minimum)."""
DAY = 86400.0
RUNBOOKS = "https://docs.example.com/metrics-ai/docs/openshift.md"


@dataclass(frozen=True)
class Cluster:
    """The backfilled cluster's Prometheus and the models trained from it."""

    url: str
    models: Path


def e2e_truth(end: pd.Timestamp) -> pd.DataFrame:
    """The OpenShift fixture's generator frame with disks and node signals set as the test needs.

    Every filesystem but FILLING is flat; every node's io_wait, net_rx and net_tx has a daily
    cycle and no trend, except CRISIS's io_wait, which climbs.
    """
    truth = openshift_truth(end).copy()
    rng = np.random.default_rng(3)
    stamps = truth["timestamp"].astype("int64").to_numpy() / 1e9
    ago = (end.timestamp() - stamps) / DAY
    daily = np.sin(2 * np.pi * stamps / DAY)
    signal, node = truth["signal"].to_numpy(), truth["node"].astype(str).to_numpy()
    mount = truth["mountpoint"].astype(str).to_numpy()
    values = truth["value"].to_numpy(dtype=np.float64).copy()

    io = signal == "io_wait"
    climb = np.where(node == CRISIS, 0.06 * (ago.max() - ago), 0.0)
    values[io] = (0.05 + 0.02 * daily + climb + 0.003 * rng.normal(size=truth.shape[0]))[io]
    net = np.isin(signal, ("net_rx", "net_tx"))
    values[net] = (1e8 * (1 + 0.3 * daily) + 2e6 * rng.normal(size=truth.shape[0]))[net]
    disk = signal == "disk_used_pct"
    level = 40.0 + 3.0 * pd.factorize(pd.Series(node) + pd.Series(mount))[0]
    filling = (node == FILLING[0]) & (mount == FILLING[1])
    usage = np.where(filling, 75.0 - 10.0 * ago, level) + 0.05 * rng.normal(size=truth.shape[0])
    values[disk] = usage[disk]
    return truth.assign(value=values)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster served by a real Prometheus, and disk-eta and io-crisis trained from it by the CLI."""
    workdir = tmp_path_factory.mktemp("e2e-prometheus")
    end = pd.Timestamp.now(tz="UTC").floor(f"{SCRAPE}s")
    truth = e2e_truth(end)
    grid = pd.DatetimeIndex(sorted(truth["timestamp"].unique()))
    proc, url, _ = backfill_and_serve(workdir, truth, grid, openshift=True)
    try:
        models = workdir / "models"
        env = {**os.environ, "PROMETHEUS_URL": url, "TRAINING_DAYS": "2", "CLUSTER_NAME": CLUSTER_NAME}
        done = subprocess.run(
            [sys.executable, "-m", "training", "run", "--source", "prometheus", "--out", str(models),
             "--models", ",".join(ENABLED)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        for model in ENABLED:
            assert ModelStore(models, model).current_version() is not None, model
        yield Cluster(url=url, models=models)
    finally:
        stop_process(proc)


RULES = (
    "MetricsAIFilesystemFillingUp", "MetricsAICrisisAhead", "MetricsAIForecastDeviation", "MetricsAINodeOutlier",
    "MetricsAIClusterAnomaly", "MetricsAIModelNotReady", "MetricsAIRetrainFailed", "MetricsAIModelStale",
    "MetricsAIReloadsFailing", "MetricsAIAlertingPassStale", "MetricsAIModelDrift", "MetricsAILiveErrorHigh",
)  # fmt: skip


def chart_values(predictor_url: str) -> dict[str, Any]:
    """Values of this install: two models, every alert immediate, the client's pass interval."""
    rules: dict[str, Any] = {name: {"for": "0s"} for name in RULES}
    # absent until Prometheus first scrapes the client: one evaluation may come before that scrape
    rules["MetricsAIAlertingPassStale"] = {"for": "10s"}
    return {
        "models": {m: {"enabled": m in ENABLED} for m in MODELS},
        "prometheus": {"clusterName": CLUSTER_NAME},
        "alerting": {
            "interval": INTERVAL,
            "runbookBaseUrl": RUNBOOKS,
            "predictorUrl": predictor_url,
            "modelUrls": dict.fromkeys(ENABLED, predictor_url),
            "rules": rules,
        },
    }


def client_command(objects: list[dict[str, Any]], port: int) -> tuple[list[str], dict[str, str]]:
    """The client's command and chart-set cluster settings from the rendered Deployment, on ``port``."""
    (deployment,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-alerting")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = list(container["args"])
    args[args.index("--port") + 1] = str(port)
    env = {e["name"]: e["value"] for e in container["env"] if e["name"] in ("CLUSTER_NAME", "CLUSTER_LABEL")}
    return [sys.executable, *container["command"][1:], *args], env


def scrape(url: str) -> str:
    """The text of ``url``/metrics, '' while it does not answer."""
    try:
        return httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.TransportError:
        return ""


def successes(text: str) -> float:
    """The client's count of successful passes in its /metrics text (0 before the first)."""
    found = re.search(r'^metrics_ai_alerting_passes_total\{outcome="success"\} (\S+)$', text, flags=re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_until(check: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    """Poll ``check`` until true; fail with ``what()`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(what(), pytrace=False)
        time.sleep(0.3)


def fired(received: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(alertname, severity, node, mountpoint or signal) of every firing alert received."""
    return {
        (
            a["labels"]["alertname"],
            a["labels"]["severity"],
            a["labels"].get("node", ""),
            a["labels"].get("mountpoint") or a["labels"].get("signal", ""),
        )
        for a in received
        if a["status"] == "firing"
    }


EXPECTED = {
    ("MetricsAIFilesystemFillingUp", "critical", *FILLING),
    ("MetricsAICrisisAhead", "warning", CRISIS, "io_wait"),
}


def test_a_filling_disk_and_an_io_crisis_reach_alertmanager_and_nothing_else(
    cluster: Cluster,
    start_predictor: Callable[..., Predictor],
    alertmanager: Alertmanager,  # noqa: F811
    tmp_path: Path,
) -> None:
    predictor = start_predictor(cluster.models, ",".join(ENABLED), env=NO_PROMETHEUS)
    wait_ready(predictor, ENABLED)
    objects = render_objects(chart_values(predictor.url))
    assert {r["alert"] for r in alerts(rule_groups(objects))} == set(RULES) - {
        "MetricsAIForecastDeviation", "MetricsAINodeOutlier", "MetricsAIClusterAnomaly", "MetricsAILiveErrorHigh",
    }  # fmt: skip
    port = free_port()
    command, chart_env = client_command(objects, port)
    assert command[command.index("--models") + 1] == ",".join(ENABLED)
    assert command.count("--model-url") == len(ENABLED)
    env = {**os.environ, **chart_env, "PROMETHEUS_URL": cluster.url, "ALERTING_DISCOVERY_SECONDS": "3600"}
    client_url, client_log = f"http://127.0.0.1:{port}", tmp_path / "alerting.log"
    with client_log.open("wb") as out:
        client = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    prometheus_proc = None
    try:
        wait_until(
            lambda: client.poll() is None and successes(scrape(client_url)) >= 1,
            90,
            lambda: f"no successful pass:\n{scrape(client_url)[-3000:]}\n{client_log.read_text()[-3000:]}",
        )
        text = scrape(client_url)
        rules = write_rules_file(rule_groups(objects), tmp_path / "rules.yml")
        config = rules_config(
            [rules], [alertmanager.address],
            {"metrics-ai-alerting": [client_url.removeprefix("http://")],
             "metrics-ai-predictor": [predictor.url.removeprefix("http://")]},
        )  # fmt: skip
        (tmp_path / "tsdb").mkdir()
        binary, _ = prometheus_binaries()
        prometheus_proc, url, log = start_prometheus(binary, tmp_path / "tsdb", tmp_path, config_text=config)
        prometheus_ready(prometheus_proc, url, log)
        alertmanager.webhook.wait_for(lambda got: fired(got) >= EXPECTED, timeout=60)
        # one more pass, then several scrapes, evaluations (1 s) and Alertmanager groups (1 s):
        # every entity was in the first scrape, so anything else that would fire has by now
        time.sleep(INTERVAL + 4)
        received = alertmanager.webhook.alerts()
        assert client.poll() is None, client_log.read_text()[-3000:]
        # the product-health rules saw the predictor: their silence means ready, fresh, reloading fine
        assert query(url, "metrics_ai_model_ready") == dict.fromkeys(ENABLED, 1.0)
        assert set(query(url, "time() - metrics_ai_artifact_created_timestamp_seconds < 3600")) == set(ENABLED)
    finally:
        if prometheus_proc is not None:
            stop_process(prometheus_proc)
        stop_process(client)
    assert fired(received) == EXPECTED, (received, entity_series(text))
    by_name = {a["labels"]["alertname"]: a for a in received if a["status"] == "firing"}
    disk = by_name["MetricsAIFilesystemFillingUp"]
    assert disk["labels"]["cluster"] == CLUSTER_NAME, disk
    assert (
        f"filesystem {FILLING[1]} on node {FILLING[0]} in cluster {CLUSTER_NAME}" in disk["annotations"]["description"]
    )
    crisis = by_name["MetricsAICrisisAhead"]
    assert crisis["labels"]["cluster"] == CLUSTER_NAME, crisis
    assert f"io_wait on node {CRISIS} in cluster {CLUSTER_NAME}" in crisis["annotations"]["description"]
    for name, alert in by_name.items():
        assert alert["annotations"]["runbook_url"] == f"{RUNBOOKS}#{name.lower()}", alert


def query(url: str, promql: str) -> dict[str, float]:
    """An instant query of the rule Prometheus: ``model`` label -> value."""
    answer = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10).json()
    return {r["metric"].get("model", ""): float(r["value"][1]) for r in answer["data"]["result"]}


def entity_series(text: str) -> str:
    """The client's entity series (for a failure message)."""
    return "\n".join(line for line in text.splitlines() if line.startswith("metrics_ai_") and "alerting_" not in line)
