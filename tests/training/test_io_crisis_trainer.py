"""IoCrisisTrainer: tiny-profile training and publish, and crisis calls on fitted series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.crossing import DAY, bin_means, recent_window
from metrics_ai.families.io_crisis import IoCrisisConfig, IoCrisisPredictor, SeriesState
from metrics_ai.settings import Settings
from training.families.base import no_progress
from training.families.io_crisis import fit_series_prophet
from training.pipeline import FamilyRun, run_training
from training.sources import window_of

pytestmark = pytest.mark.slow

END = 1_790_006_400.0


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings
) -> tuple[Path, FamilyRun]:
    root = tmp_path_factory.mktemp("io-crisis")
    [run] = run_training(
        tiny_frame,
        window_of(tiny_frame, "test"),
        settings,
        root,
        ["io-crisis"],
        lambda _: no_progress,
    )
    assert run.ok, (run.error, run.published)
    return root, run


def test_metrics_counts_and_gate(trained: tuple[Path, FamilyRun]) -> None:
    _, run = trained
    m = run.outcome.metrics  # type: ignore[union-attr]
    assert m["series"] == 12  # tiny: 4 nodes x io_wait, net_rx, net_tx
    d = m["detection"]
    cases = d["true_positives"] + d["false_positives"] + d["misses"] + d["true_negatives"]
    assert cases > 0 and d["error_rate"] == (d["false_positives"] + d["misses"]) / cases
    assert m["gate"]["crisis_error_rate"] == d["error_rate"]
    assert set(m["mae"]) == {"io_wait", "net_rx", "net_tx"}
    assert run.outcome.figures["backtest"].axes  # type: ignore[union-attr]


def test_published_version_answers_like_the_trained_one(trained: tuple[Path, FamilyRun]) -> None:
    root, run = trained
    manifest, folder = ModelStore(root, "io-crisis").verify()
    loaded = IoCrisisPredictor.load(folder, manifest)
    original = run.outcome.predictor  # type: ignore[union-attr]
    assert isinstance(original, IoCrisisPredictor)
    instances = original.smoke_instances() + [
        {"node": n, "signal": s} for n, s in list(original.series)[:6]
    ]
    assert loaded.predict_v1(instances) == original.predict_v1(instances)
    assert {p["threshold"] for p in loaded.predict_v1(instances)} <= {0.30, 9.5e8}


def _io_series(
    rate_per_day: float, days: float = 7, step: float = 60, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """I/O wait with a business-hours daily rhythm, a trend and noise, ending at END."""
    rng = np.random.default_rng(seed)
    t = END - np.arange(int(days * DAY / step))[::-1] * step
    hours = (t % DAY) / 3600
    clean = 0.08 + 0.04 * np.exp(-0.5 * ((hours - 14) / 3.5) ** 2) + rate_per_day * (t - t[0]) / DAY
    return t, clean + 0.01 * rng.normal(size=t.size)


def _call(t: np.ndarray, v: np.ndarray) -> dict:
    cfg = IoCrisisConfig()
    state = SeriesState(
        fit_series_prophet(t, v, cfg), recent_window(t, v, cfg.recent_hours, cfg.recent_step)
    )
    predictor = IoCrisisPredictor(cfg, {("n", "io_wait"): state})
    history = {"timestamps": t.tolist(), "values": v.tolist()}
    return predictor.predict_v1([{"node": "n", "signal": "io_wait", "history": history}])[0]


def test_trending_io_wait_crisis_at_the_right_time() -> None:
    t, v = _io_series(0.02)  # ends near 0.22-0.26; the afternoon peak reaches 0.30 in a few days
    future_t = END + np.arange(1, int(7 * DAY / 60)) * 60.0
    hours = (future_t % DAY) / 3600
    clean = 0.08 + 0.04 * np.exp(-0.5 * ((hours - 14) / 3.5) ** 2) + 0.02 * (future_t - t[0]) / DAY
    tb, vb = bin_means(future_t, clean)
    truth = (tb[np.flatnonzero(vb >= 0.30)[0]] - END) / DAY
    pred = _call(t, v)
    assert pred["crisis"] is True
    assert pred["days_to_crisis"] == pytest.approx(truth, abs=0.3)
    assert pred["forecast_peak"] > 0.30


def test_calm_io_wait_is_no_crisis() -> None:
    pred = _call(*_io_series(0.0, seed=1))
    assert pred["crisis"] is False and pred["days_to_crisis"] is None
    assert 0.1 < pred["forecast_peak"] < 0.2
