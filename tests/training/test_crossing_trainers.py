"""DiskEtaTrainer and IoCrisisTrainer on tiny, trained in one run: metrics, skipped series, figures,
and published versions that load and answer as the trained ones (held for both)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.families import predictor_class
from metrics_ai.families.crossing import CrossingPredictor
from metrics_ai.series import validate_frame
from metrics_ai.settings import Settings
from tests.serving.codec_calls import smoke, v1
from training.families.base import no_progress
from training.pipeline import FamilyRun, run_training
from training.sources import window_of

pytestmark = pytest.mark.slow

MODELS = ["disk-eta", "io-crisis"]


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings
) -> tuple[Path, dict[str, FamilyRun]]:
    """disk-eta and io-crisis trained and published from tiny + one disk too short to model."""
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
    root = tmp_path_factory.mktemp("crossing")
    runs = run_training(frame, window_of(frame, "test"), settings, root, MODELS, lambda _: no_progress)
    for run in runs:
        assert run.ok, (run.model, run.error, run.published)
    return root, {run.model: run for run in runs}


def test_disk_metrics_gate_and_figure(trained: tuple[Path, dict[str, FamilyRun]]) -> None:
    run = trained[1]["disk-eta"]
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


def test_crisis_metrics_counts_and_gate(trained: tuple[Path, dict[str, FamilyRun]]) -> None:
    run = trained[1]["io-crisis"]
    m = run.outcome.metrics  # type: ignore[union-attr]
    assert m["series"] == 12  # tiny: 4 nodes x io_wait, net_rx, net_tx
    d = m["detection"]
    cases = d["true_positives"] + d["false_positives"] + d["misses"] + d["true_negatives"]
    assert cases > 0 and d["error_rate"] == (d["false_positives"] + d["misses"]) / cases
    assert m["gate"]["crisis_error_rate"] == d["error_rate"]
    assert set(m["mae"]) == {"io_wait", "net_rx", "net_tx"}
    assert run.outcome.figures["backtest"].axes  # type: ignore[union-attr]


def _disk_requests(original: CrossingPredictor) -> list[dict[str, Any]]:
    cluster, node, mount = next(iter(original.states))
    recent = original.states[(cluster, node, mount)].recent
    fresh = {"timestamps": recent.timestamps.tolist(), "values": (recent.values + 3.0).tolist()}
    return [
        {"node": node, "mountpoint": mount},
        {"node": node, "mountpoint": mount, "history": fresh},
        {"node": "short-lived", "mountpoint": "/"},
    ]


def _disk_answers(answers: list[dict[str, Any]]) -> None:
    assert answers[0]["source"] == "training-state" and answers[1]["source"] == "request"
    assert answers[2]["eta_days"]["ensemble"] is None and "50" in answers[2]["reason"]
    assert answers[0]["severity"] in {"CRITICAL", "WARNING", "SOON", "OK"}


def _crisis_requests(original: CrossingPredictor) -> list[dict[str, Any]]:
    keys = list(original.states)[:6]
    return smoke(original) + [{"cluster": c, "node": n, "signal": s} for c, n, s in keys]


def _crisis_answers(answers: list[dict[str, Any]]) -> None:
    assert {p["threshold"] for p in answers} <= {0.30, 9.5e8}


#: model -> (its version's files besides the manifest, the requests, what the answers must show)
PUBLISHED: dict[str, tuple[list[str], Callable[[CrossingPredictor], list[Any]], Callable[[list[Any]], None]]] = {
    "disk-eta": (
        ["disks.json", "drift_reference.json", "recent.npz"],  # with the training input's deciles (monitoring)
        _disk_requests,
        _disk_answers,
    ),
    "io-crisis": (["drift_reference.json", "recent.npz", "series.json"], _crisis_requests, _crisis_answers),
}


@pytest.mark.parametrize("model", MODELS)
def test_published_version_answers_like_the_trained_one(trained: tuple[Path, dict[str, FamilyRun]], model: str) -> None:
    root, runs = trained
    files, requests, check = PUBLISHED[model]
    manifest, folder = ModelStore(root, model).verify()
    assert sorted(p.name for p in folder.iterdir() if p.name != "manifest.json") == files
    loaded = predictor_class(model).load(folder, manifest)
    original = runs[model].outcome.predictor  # type: ignore[union-attr]
    assert isinstance(original, predictor_class(model))
    assert isinstance(original, CrossingPredictor)
    instances = requests(original)
    answers = v1(loaded, instances)
    assert answers == v1(original, instances)
    check(answers)
