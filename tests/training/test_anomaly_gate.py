"""The anomaly-detector's quality gate measures something on unlabelled (Prometheus) data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.features import FeatureSpec
from metrics_ai.settings import Settings
from training.families.anomaly import AnomalyTrainer
from training.families.base import no_progress
from training.injected_holdout import injected_figures
from training.pipeline import run_training
from training.sources import window_of
from training.sources.profiles import get_profile
from training.sources.synthetic import ANOMALY_SIGNALS, generate

END = pd.Timestamp("2026-09-28", tz="UTC")


@pytest.fixture(scope="module")
def unlabelled() -> pd.DataFrame:
    """A week of the tiny profile with no anomaly labels, as Prometheus gives it."""
    frame = generate(get_profile("tiny"), 7, step=300, anomaly_rate=0.0, seed=7, end=END)
    assert not frame["anomaly"].any()
    return frame


def test_unlabelled_hold_out_is_gated_on_injected_anomalies(unlabelled: pd.DataFrame, tmp_path: Path) -> None:
    settings = Settings(anomaly_rate=0.03)
    [run] = run_training(
        unlabelled,
        window_of(unlabelled, "prometheus:test"),
        settings,
        tmp_path,
        ["anomaly-detector"],
        lambda _: no_progress,
    )
    assert run.ok, run.error
    metrics = ModelStore(tmp_path, "anomaly-detector").current().metrics
    assert metrics["test_anomalies"] == 0 and metrics["f1"] == 0.0  # what the gate used to read
    injected = metrics["injected"]
    assert injected["anomalies"] >= 0.02 * injected["rows"] and injected["rate"] == 0.03
    # the detector catches a good share of the injected anomalies, and its alarms hit them far more
    # often than chance (a random alarm is one with probability anomalies / rows)
    share = injected["anomalies"] / injected["rows"]
    assert injected["recall"] > 0.3 and injected["precision"] > 5 * share, injected
    assert metrics["gate"] == {"one_minus_injected_f1": pytest.approx(1 - injected["f1"])}
    assert metrics["gate_figure"].startswith("anomalies injected into the unlabelled hold-out")


def test_labelled_hold_out_keeps_the_labelled_figure(tiny_frame: pd.DataFrame, settings: Settings) -> None:
    outcome = AnomalyTrainer(settings).fit(tiny_frame)
    m = outcome.metrics
    assert m["test_anomalies"] > 0
    assert m["gate"] == {"one_minus_f1": pytest.approx(1 - m["f1"])} and m["gate_figure"] == "held-out labels"
    assert m["injected"]["f1"] > 0  # recorded beside it


def test_no_labels_and_no_injection_says_so(unlabelled: pd.DataFrame) -> None:
    m = AnomalyTrainer(Settings(anomaly_rate=0.0)).fit(unlabelled).metrics
    assert m["injected"] is None and m["gate"] == {"one_minus_f1": 1.0}
    assert "nothing injected" in m["gate_figure"]


def test_injected_figures_score_the_detector_not_the_data() -> None:
    rng = np.random.default_rng(0)
    series = [rng.normal(0.5, 0.02, (600, len(ANOMALY_SIGNALS))).clip(0, 1) for _ in range(3)]
    args = (series, [480] * 3, ANOMALY_SIGNALS, FeatureSpec())
    silent = injected_figures(*args, lambda x: np.zeros(len(x), dtype=bool), rate=0.05, interval=300, seed=1)
    alarmist = injected_figures(*args, lambda x: np.ones(len(x), dtype=bool), rate=0.05, interval=300, seed=1)
    assert silent is not None and alarmist is not None
    assert (silent["recall"], silent["f1"]) == (0.0, 0.0)
    assert alarmist["recall"] == 1.0
    assert alarmist["precision"] == pytest.approx(alarmist["anomalies"] / alarmist["rows"])
    assert injected_figures(*args, lambda x: x[:, 0] > 0, rate=0.0, interval=300, seed=1) is None
