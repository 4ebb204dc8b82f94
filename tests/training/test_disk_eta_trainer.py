"""DiskEtaTrainer on tiny: metrics, skipped disks, figure, publish, load, same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.families.disk_eta import DiskEtaPredictor
from metrics_ai.series import validate_frame
from metrics_ai.settings import Settings
from training.families.base import no_progress
from training.pipeline import FamilyRun, run_training
from training.sources import window_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings
) -> tuple[Path, FamilyRun]:
    """disk-eta trained and published from tiny + one disk too short to model."""
    end = tiny_frame["timestamp"].max()
    short = pd.DataFrame(
        {
            "timestamp": pd.date_range(end=end, periods=30, freq="60s"),
            "signal": "disk_used_pct",
            "value": np.linspace(40, 41, 30),
            "cluster": "",
            "node": "short-lived",
            "mountpoint": "/",
            "anomaly": False,
        }
    )
    frame = validate_frame(pd.concat([tiny_frame, short], ignore_index=True))
    root = tmp_path_factory.mktemp("disk-eta")
    [run] = run_training(
        frame, window_of(frame, "test"), settings, root, ["disk-eta"], lambda _: no_progress
    )
    assert run.ok, (run.error, run.published)
    return root, run


def test_metrics_gate_and_figure(trained: tuple[Path, FamilyRun]) -> None:
    _, run = trained
    assert run.outcome is not None
    m = run.outcome.metrics
    assert m["disks"] == 8  # tiny: 4 nodes x 2 mountpoints; the short disk is not backtested
    for table in (m["mae"], m["rmse"]):
        assert set(table) == {"linear", "prophet", "ensemble"}
        assert all(np.isfinite(x) and x >= 0 for x in table.values())
    assert m["gate"]["disk_mae"] == m["mae"]["ensemble"]
    d = m["detection"]
    assert d["true_positives"] + d["false_positives"] + d["misses"] + d["true_negatives"] > 0
    assert run.outcome.skipped == {"short-lived:/": "30 points; a model needs at least 50"}
    assert 1 <= len(run.outcome.figures["backtest"].axes) <= 4


def test_published_version_answers_like_the_trained_one(trained: tuple[Path, FamilyRun]) -> None:
    root, run = trained
    manifest, folder = ModelStore(root, "disk-eta").verify()
    assert sorted(p.name for p in folder.iterdir() if p.name != "manifest.json") == [
        "disks.json",
        "drift_reference.json",  # the training input's deciles (model monitoring)
        "recent.npz",
    ]
    loaded = DiskEtaPredictor.load(folder, manifest)
    original = run.outcome.predictor  # type: ignore[union-attr]
    assert isinstance(original, DiskEtaPredictor)
    cluster, node, mount = next(iter(original.disks))
    recent = original.disks[(cluster, node, mount)].recent
    fresh = {"timestamps": recent.timestamps.tolist(), "values": (recent.values + 3.0).tolist()}
    instances = [
        {"node": node, "mountpoint": mount},
        {"node": node, "mountpoint": mount, "history": fresh},
        {"node": "short-lived", "mountpoint": "/"},
    ]
    answers = loaded.predict_v1(instances)
    assert answers == original.predict_v1(instances)
    assert answers[0]["source"] == "training-state" and answers[1]["source"] == "request"
    assert answers[2]["eta_days"]["ensemble"] is None and "50" in answers[2]["reason"]
    assert answers[0]["severity"] in {"CRITICAL", "WARNING", "SOON", "OK"}
