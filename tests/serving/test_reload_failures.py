"""Finding 5: reload failures are per model, logged and counted; a broken pointer at start falls back.

A FIFO stands in for a hung network volume: opening it for reading blocks until a writer comes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from metrics_ai.artifacts import MANIFEST, ModelStore, new_version_id
from tests.serving.test_lifecycle import copy_models, metric_value, served_version, wait_for

FAILURES = "metrics_ai_reload_failures_total"
ENV = {"METRICS_AI_RELOAD_TIMEOUT": "5", "METRICS_AI_REVERIFY_INTERVAL": "1"}


def copy_version(store: ModelStore, source: str) -> str:
    """A new version with the same files as ``source`` (it verifies, loads and answers)."""
    version = new_version_id()
    shutil.copytree(store.version_dir(source), store.version_dir(version))
    manifest = json.loads((store.version_dir(version) / MANIFEST).read_text())
    manifest["version"] = version
    (store.version_dir(version) / MANIFEST).write_text(json.dumps(manifest))
    return version


def ready(server, model: str) -> bool:
    return server.client.get(f"/v1/models/{model}").json().get("ready") is True


def test_a_hung_volume_stops_only_its_model_and_every_failure_is_counted(
    tmp_path: Path, basic_models: Path, start_predictor
) -> None:
    root = copy_models(basic_models, tmp_path)
    server = start_predictor(root, env=ENV)
    anomaly = ModelStore(root, "anomaly-detector")
    wait_for(lambda: ready(server, "anomaly-detector") and ready(server, "node-outliers"))
    hung_before = metric_value(server, FAILURES, "node-outliers", reason="timeout")
    pointer = root / "node-outliers" / MANIFEST
    pointer.unlink()
    os.mkfifo(pointer)  # node-outliers' next read of its manifest never returns
    try:
        wait_for(lambda: metric_value(server, FAILURES, "node-outliers", reason="timeout") > hung_before)
        assert "node-outliers: reload hung (timeout), still serving" in server.log.read_text()

        newer = copy_version(anomaly, anomaly.current_version() or "")
        anomaly.promote(newer)
        wait_for(lambda: served_version(server) == newer)  # the other model's reloads go on
        assert ready(server, "node-outliers")  # and the hung one keeps answering from memory

        (root / "anomaly-detector" / MANIFEST).write_text("{garbage")  # no log, no metric before
        wait_for(lambda: metric_value(server, FAILURES, "anomaly-detector", reason="manifest") >= 1)
        garbage = "anomaly-detector: version (manifest.json unreadable) failed to load (manifest)"
        assert garbage in server.log.read_text()
        assert served_version(server) == newer

        anomaly.promote(newer)
        shutil.rmtree(anomaly.version_dir(newer))  # deleted under the running predictor
        wait_for(lambda: metric_value(server, FAILURES, "anomaly-detector", reason="missing") >= 2)
        assert f"version {newer} no longer verifies on disk (missing), still serving {newer}" in server.log.read_text()
        assert served_version(server) == newer and ready(server, "anomaly-detector")
    finally:
        os.close(os.open(pointer, os.O_WRONLY | os.O_NONBLOCK))  # let the hung read return
    assert metric_value(server, FAILURES, "anomaly-detector", reason="checksum") == 0
    assert server.alive()


def test_at_start_a_bad_pointer_falls_back_to_the_last_servable_version(
    tmp_path: Path, basic_models: Path, start_predictor
) -> None:
    root = copy_models(basic_models, tmp_path)
    anomaly, outliers = ModelStore(root, "anomaly-detector"), ModelStore(root, "node-outliers")
    first = anomaly.current_version() or ""
    broken = copy_version(anomaly, first)
    anomaly.promote(broken)
    victim = next(iter(anomaly.manifest(broken).files))
    (anomaly.version_dir(broken) / victim).write_bytes(b"altered")  # the current version is damaged
    (root / "node-outliers" / MANIFEST).write_text("")  # and this pointer is empty (a torn write)

    server = start_predictor(root, env=ENV)
    assert served_version(server) == first
    assert ready(server, "anomaly-detector") and ready(server, "node-outliers")
    assert metric_value(server, "metrics_ai_model_fallback", "anomaly-detector") == 1
    assert metric_value(server, "metrics_ai_model_fallback", "node-outliers") == 1
    assert metric_value(server, FAILURES, "anomaly-detector", reason="checksum") >= 1
    assert metric_value(server, FAILURES, "node-outliers", reason="manifest") >= 1
    log = server.log.read_text()
    assert f"anomaly-detector: manifest.json names {broken}, which cannot be served; serving {first}" in log

    anomaly.promote(first)  # the operator points it at a good version: no longer a fallback
    wait_for(lambda: metric_value(server, "metrics_ai_model_fallback", "anomaly-detector") == 0)
    assert served_version(server) == first
    assert outliers.current_version() is None  # the empty pointer was not rewritten by the predictor
