"""Hot reload under load, corrupt new versions, rollback: the predictor follows without a restart."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from metrics_ai.artifacts import MANIFEST, ModelStore
from tests.conftest import REPO, train_into

ROW = [0.5, 0.6, 0.4, 100, 80]


def copy_models(src: Path, tmp_path: Path) -> Path:
    root = tmp_path / "models"
    shutil.copytree(src, root, symlinks=True)
    return root


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def served_version(server) -> str:
    r = server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [ROW]})
    assert r.status_code == 200, r.text
    return r.json()["predictions"][0]["model_version"]


def metric_value(server, name: str, model: str, **labels: str) -> float:
    """The sum of a metric's series for ``model`` (and ``labels``): 0 when there is none."""
    wanted = [f'model="{model}"', *(f'{k}="{v}"' for k, v in labels.items())]
    total = 0.0
    for line in server.client.get("/metrics").text.splitlines():
        if line.startswith(name) and all(w in line for w in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_publish_under_load_zero_errors_and_switch(
    tmp_path, basic_models, tiny_frame, settings, start_predictor
) -> None:
    root = copy_models(basic_models, tmp_path)
    old = ModelStore(root, "anomaly-detector").current_version()
    server = start_predictor(root)
    statuses: list[int] = []
    versions: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            deadline = time.monotonic() + 90
            while not stop.is_set() and time.monotonic() < deadline and len(statuses) < 20000:
                r = c.post("/v1/models/anomaly-detector:predict", json={"instances": [ROW]})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    versions.append(r.json()["predictions"][0]["model_version"])

    thread = threading.Thread(target=client)
    thread.start()
    try:
        wait_for(lambda: len(statuses) > 20)
        newer = settings.model_copy(update={"seed": 7, "gate_margin": 10.0})
        train_into(root, tiny_frame, newer, ["anomaly-detector"])
        new = ModelStore(root, "anomaly-detector").current_version()
        assert new != old
        wait_for(lambda: bool(versions) and versions[-1] == new)
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert statuses and set(statuses) == {200}
    assert versions[0] == old and versions[-1] == new
    first_new = versions.index(new)
    assert set(versions[first_new:]) == {new}  # never flips back
    assert metric_value(server, "metrics_ai_reloads_total", "anomaly-detector") == 1.0


def _promote_damaged(root: Path, good: str, damage: str) -> str:
    """Copy a good version, damage the copy, and point manifest.json at it (bypassing promote)."""
    store = ModelStore(root, "anomaly-detector")
    bad_version = f"{good[:-4]}bad{damage[0]}"
    folder = store.version_dir(bad_version)
    shutil.copytree(store.version_dir(good), folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["version"] = bad_version
    if damage == "truncated":
        path = folder / "forest.npz"
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "checksum":
        stats = json.loads((folder / "stats.json").read_text())
        stats["centre"][0] += 1.0
        (folder / "stats.json").write_text(json.dumps(stats))
    elif damage == "schema":
        manifest["schema_version"] = 99
    (folder / MANIFEST).write_text(json.dumps(manifest))
    (root / "anomaly-detector" / MANIFEST).write_text(json.dumps(manifest))
    return bad_version


def test_corrupt_new_version_keeps_old_serving(tmp_path, basic_models, start_predictor) -> None:
    root = copy_models(basic_models, tmp_path)
    old = ModelStore(root, "anomaly-detector").current_version()
    assert old is not None
    server = start_predictor(root)
    for i, damage in enumerate(("truncated", "checksum", "schema"), start=1):
        _promote_damaged(root, old, damage)
        wait_for(lambda i=i: metric_value(server, "metrics_ai_reload_failures_total", "anomaly-detector") >= i)
        assert served_version(server) == old
        assert server.client.get("/v1/models/anomaly-detector").json()["ready"] is True
    log = server.log.read_text()
    assert "failed to load" in log and "still serving" in log
    assert server.alive()


def test_rollback_and_predictor_follows(tmp_path, basic_models, tiny_frame, settings, start_predictor) -> None:
    root = copy_models(basic_models, tmp_path)
    first = ModelStore(root, "anomaly-detector").current_version()
    train_into(root, tiny_frame, settings.model_copy(update={"seed": 9, "gate_margin": 10.0}), ["anomaly-detector"])
    second = ModelStore(root, "anomaly-detector").current_version()
    server = start_predictor(root)
    assert served_version(server) == second
    done = subprocess.run(
        [sys.executable, "-m", "training", "rollback", "--out", str(root), "--model", "anomaly-detector"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert ModelStore(root, "anomaly-detector").current_version() == first
    wait_for(lambda: served_version(server) == first)
    assert (root / "anomaly-detector" / "model.pkl").resolve().parent.name == first


def test_operational_metrics_on_metrics_endpoint(basic_server) -> None:
    version = served_version(basic_server)
    basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [[0.5, 0.6, "x", 100, 80]]})
    text = basic_server.client.get("/metrics").text
    assert f'metrics_ai_model_version_info{{model="anomaly-detector",version="{version}"}} 1.0' in text
    assert (
        metric_value(
            basic_server, 'metrics_ai_predictions_total{model="anomaly-detector",outcome="ok"', "anomaly-detector"
        )
        >= 1
    )
    assert 'outcome="error_400"' in text
    assert metric_value(basic_server, "metrics_ai_artifact_created_timestamp_seconds", "anomaly-detector") > 1.7e9
    assert metric_value(basic_server, "metrics_ai_model_ready", "node-outliers") == 1.0
    assert "request_predict_seconds" in text  # KServe's own metrics alongside
