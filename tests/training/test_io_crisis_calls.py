"""io-crisis calls on series fitted as training fits them (the trainer on tiny: test_crossing_trainers.py)."""

from __future__ import annotations

import numpy as np
import pytest

from metrics_ai.crossing import DAY, bin_means, recent_window
from metrics_ai.families.io_crisis import IoCrisisConfig, IoCrisisPredictor, SeriesState
from tests.serving.codec_calls import v1
from training.families.io_crisis import fit_series_prophet

pytestmark = pytest.mark.slow

END = 1_790_006_400.0


def _io_series(rate_per_day: float, days: float = 7, step: float = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """I/O wait with a business-hours daily rhythm, a trend and noise, ending at END."""
    rng = np.random.default_rng(seed)
    t = END - np.arange(int(days * DAY / step))[::-1] * step
    hours = (t % DAY) / 3600
    clean = 0.08 + 0.04 * np.exp(-0.5 * ((hours - 14) / 3.5) ** 2) + rate_per_day * (t - t[0]) / DAY
    return t, clean + 0.01 * rng.normal(size=t.size)


def _call(t: np.ndarray, v: np.ndarray) -> dict:
    cfg = IoCrisisConfig()
    state = SeriesState(fit_series_prophet(t, v, cfg), recent_window(t, v, cfg.recent_hours, cfg.recent_step))
    predictor = IoCrisisPredictor(cfg, {("", "n", "io_wait"): state})
    history = {"timestamps": t.tolist(), "values": v.tolist()}
    return v1(predictor, [{"node": "n", "signal": "io_wait", "history": history}])[0]


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
