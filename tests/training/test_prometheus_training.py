"""``python -m training run --source prometheus`` end to end against a real Prometheus."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.families import MODEL_NAMES
from tests.prometheus_fixture import OPENSHIFT_NODE_NAMES, PromData

REPO = Path(__file__).resolve().parents[2]
REQUIRED = ("anomaly-detector", "node-outliers")


def test_train_available_families_from_prometheus(prometheus_data: PromData, tmp_path: Path) -> None:
    models = list(MODEL_NAMES)
    # Two days of data (three for the forecasting families); resource-forecast with its ARIMA
    # component only (Prophet and the LSTM per entity would take minutes here): what this test
    # checks is the data path.
    env = {
        **os.environ,
        "PROMETHEUS_URL": prometheus_data.url,
        "TRAINING_DAYS": "2",
        "START_HOURS_AGO": "72",
        "FORECAST_COMPONENTS": "arima",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "training",
            "run",
            "--source",
            "prometheus",
            "--out",
            str(tmp_path / "models"),
            "--models",
            ",".join(models),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    failed = []
    for model in models:
        store = ModelStore(tmp_path / "models", model)
        if store.current_version() is None:
            failed.append(model)
            continue
        manifest = store.current()
        assert manifest.data.source == f"prometheus:{prometheus_data.url}", model
        assert manifest.data.rows > 0 and manifest.data.entities >= 5, model
        assert manifest.data.start is not None and manifest.data.end is not None
        days = (manifest.data.end - manifest.data.start).total_seconds() / 86400
        # each family's own lookback: START_HOURS_AGO (forecasting) or TRAINING_DAYS
        forecasting = model in {"resource-forecast", "disk-eta", "io-crisis"}
        assert days == pytest.approx(3 if forecasting else 2, abs=0.01), model
    assert not set(REQUIRED) & set(failed), log[-4000:]
    if failed:
        warnings.warn(f"families not published from Prometheus data: {failed}\n{log[-2000:]}", stacklevel=1)
    else:
        assert done.returncode == 0, log[-4000:]


def test_single_openshift_cluster_without_cluster_label_trains_every_family(
    openshift_prometheus: PromData, tmp_path: Path
) -> None:
    """No series has a ``cluster`` label: all belong to CLUSTER_NAME, and all five families train."""
    out = tmp_path / "models"
    env = {
        **os.environ,
        "PROMETHEUS_URL": openshift_prometheus.url,
        "TRAINING_DAYS": "2",
        "FORECAST_COMPONENTS": "arima",
        "CLUSTER_NAME": "ocp-prod",
    }
    done = subprocess.run(
        [sys.executable, "-m", "training", "run", "--source", "prometheus", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "standalone" not in log, log[-4000:]
    for model in MODEL_NAMES:
        assert ModelStore(out, model).current_version() is not None, f"{model} not published\n{log[-3000:]}"
    outliers = ModelStore(out, "node-outliers").current()
    assert outliers.entities == ["ocp-prod"], outliers.entities
    forecast = ModelStore(out, "resource-forecast").current()
    assert {"cpu/ocp-prod", "memory/ocp-prod"} <= set(forecast.entities), forecast.entities
    node_keys = {e for e in forecast.entities if e.startswith("io_wait/")}
    assert node_keys == {f"io_wait/{node}" for node in OPENSHIFT_NODE_NAMES}, forecast.entities
    for model in ("disk-eta", "io-crisis"):  # keyed by cluster and node: named after CLUSTER_NAME too
        entities = ModelStore(out, model).current().entities
        assert entities and all(e.startswith("ocp-prod/") for e in entities), (model, entities)
