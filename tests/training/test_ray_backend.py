"""Training on a Ray cluster: a local head on 127.0.0.1 started by these tests, same results as local.

The head (``ray start --head --node-ip-address=127.0.0.1 ...``, 2 CPUs) lives for this
module and is stopped at its end, every process of its session, checked gone.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.families import predictor_class
from metrics_ai.settings import Settings, load_settings
from tests.conftest import REPO, train_into
from tests.serving.codec_calls import smoke, v1
from training.ray_local import LOOPBACK_ENV, LocalRayHead, session_pids

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow

#: the families that fan out through the executor
FAMILIES = ["node-outliers", "disk-eta", "io-crisis", "resource-forecast"]
#: run-dependent figures: where and how fast, not what was learnt
VOLATILE = {"executor", "timing_s", "seconds", "windows_per_s"}


@pytest.fixture(scope="module")
def ray_head() -> Iterator[LocalRayHead]:
    """A single-node Ray head on loopback; afterwards no process of it may be left."""
    head = LocalRayHead(cpus=2)
    head.start()
    sid = head.session
    assert sid is not None
    try:
        yield head
    finally:
        head.stop()
        assert session_pids(sid) == [], "Ray processes survived the head's stop"


@pytest.fixture
def ray_driver(ray_head: LocalRayHead) -> Iterator[str]:
    """This process may connect to the head as a driver; it disconnects afterwards."""
    from ray._private import ray_constants

    before = (os.environ.get(LOOPBACK_ENV), ray_constants.ENABLE_RAY_CLUSTER)
    yield ray_head.address
    ray.shutdown()
    ray_constants.ENABLE_RAY_CLUSTER = before[1]
    if before[0] is None:
        os.environ.pop(LOOPBACK_ENV, None)


def settings_for(**overrides: Any) -> Settings:
    return load_settings(forecast_components="prophet,arima", **{"ray_address": None, **overrides})


def strip(value: Any) -> Any:
    """Drop run-dependent keys (and the prediction's model_version) at any depth."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE and k != "model_version"}
    if isinstance(value, list | tuple):
        return [strip(v) for v in value]
    return value


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal structure; floats equal to 1e-9 (NaN equals NaN)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), (path, sorted(a), b)
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert isinstance(b, int | float), (path, a, b)
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _plain(value: Any) -> Any:
    """NumPy values as JSON."""
    return value.tolist() if hasattr(value, "tolist") else float(value)


def published(root: Path, model: str) -> tuple[dict[str, Any], Any]:
    """The current manifest (as JSON) and its predictor, loaded as the server loads it."""
    manifest, folder = ModelStore(root, model).verify()
    return json.loads(manifest.model_dump_json()), predictor_class(model).load(folder, manifest)


def test_local_1_and_2_workers_and_ray_train_identical_models(
    tmp_path: Path, tiny_frame: pd.DataFrame, ray_driver: str
) -> None:
    # net_rx/net_tx left out to halve the Prophet fits (the io_wait, cpu and memory ones remain)
    frame = tiny_frame[~tiny_frame["signal"].isin(["net_rx", "net_tx"])]
    roots = {
        "local-1": train_into(tmp_path / "w1", frame, settings_for(workers=1), FAMILIES),
        "local-2": train_into(tmp_path / "w2", frame, settings_for(workers=2), FAMILIES),
        "ray": train_into(tmp_path / "ray", frame, settings_for(ray_address=ray_driver), FAMILIES),
    }
    for model in FAMILIES:
        reference, predictor = published(roots["local-1"], model)
        instances = smoke(predictor)
        expected = strip(json.loads(json.dumps(v1(predictor, instances), default=_plain)))
        for backend in ("local-2", "ray"):
            manifest, other = published(roots[backend], model)
            assert manifest["entities"] == reference["entities"], (model, backend)
            assert_same(strip(reference["metrics"]), strip(manifest["metrics"]), f"{model}/{backend}/metrics")
            got = strip(json.loads(json.dumps(v1(other, instances), default=_plain)))
            assert_same(expected, got, f"{model}/{backend}/predictions")
    # where the fits ran, as each manifest says
    for backend, processes in (("local-1", {1}), ("local-2", {1, 2}), ("ray", {1, 2})):
        for model in FAMILIES:
            runs = published(roots[backend], model)[0]["metrics"]["executor"]
            assert runs["backend"] == backend.split("-")[0], (backend, model, runs)
            assert all(m["nodes"] == 1 and m["failed"] == 0 for m in runs["maps"])
            if model != "node-outliers":  # the tiny profile has one cluster: one fit
                assert {m["processes"] for m in runs["maps"]} <= processes, (backend, model, runs)
    assert published(roots["ray"], "io-crisis")[0]["metrics"]["executor"]["address"] == ray_driver


def _on_loopback(endpoint: str) -> bool:
    """``127.0.0.1:80``, ``[::ffff:127.0.0.1]:80``, ``[::1]:80``; a wildcard (``*``, ``0.0.0.0``) is not."""
    host = endpoint.rsplit(":", 1)[0].strip("[]").removeprefix("::ffff:")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sockets(sessions: set[int]) -> list[tuple[str, str, str, int]]:
    """(state, local, peer, pid) of every TCP socket owned by a process of ``sessions``."""
    out = subprocess.run(["ss", "-tanpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        for pid in map(int, re.findall(r"pid=(\d+)", line)):
            try:
                sid = os.getsid(pid)
            except ProcessLookupError:
                continue
            if sid in sessions:
                found.append((parts[0], parts[3], parts[4], pid))
    return found


def test_cli_trains_through_ray_on_loopback_only(tmp_path: Path, ray_head: LocalRayHead) -> None:
    """``python -m training run`` with RAY_ADDRESS: the fits run as Ray tasks, every socket on 127.0.0.1."""
    out = tmp_path / "models"
    env = {k: v for k, v in os.environ.items() if k != LOOPBACK_ENV and not k.startswith("METRICS_AI_")}
    env |= {"RAY_ADDRESS": ray_head.address, "METRICS_AI_WORKERS": "1"}
    models = "node-outliers,disk-eta,io-crisis"
    cmd = [sys.executable, "-m", "training", "run", "--profile", "tiny", "--out", str(out), "--models", models]
    log = tmp_path / "train.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        sockets: set[tuple[str, str, str, int]] = set()
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            sockets.update(_sockets({proc.pid, ray_head.session or -1}))
            time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
    text = log.read_text(errors="replace")
    assert proc.wait() == 0, text[-4000:]
    for model in models.split(","):
        manifest = json.loads((out / model / "manifest.json").read_text())
        runs = manifest["metrics"]["executor"]
        assert runs["backend"] == "ray" and runs["address"] == ray_head.address, runs
        assert sum(m["tasks"] for m in runs["maps"]) > 0 and all(m["nodes"] == 1 for m in runs["maps"])
    assert re.search(r"io-crisis series: 12 fits on ray \(\d processes, 1 nodes, 0 failed\)", text), text[-4000:]
    port = ray_head.address.rsplit(":", 1)[1]
    driver = [s for s in sockets if s[3] == proc.pid and s[0] == "ESTAB"]
    assert any(s[2].endswith(f":{port}") for s in driver), f"no driver connection to the GCS seen: {sorted(sockets)}"
    outside = [s for s in sockets if not (_on_loopback(s[1]) and (s[0] == "LISTEN" or _on_loopback(s[2])))]
    assert not outside, f"sockets off loopback (state, local, peer, pid): {outside}"
