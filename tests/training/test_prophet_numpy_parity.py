"""ProphetState (NumPy) reproduces Prophet.predict's yhat for exported fits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metrics_ai.prophet_numpy import ProphetState, calendar_regressors
from training.prophet_export import export_prophet, fit_prophet, to_ds

pytestmark = pytest.mark.slow

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
STEP = 3600.0


def _series(days: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = START + np.arange(int(days * 86400 / STEP)) * STEP
    day = 2 * np.pi * t / 86400
    week = 2 * np.pi * t / (7 * 86400)
    y = (
        40
        + 0.5 * (t - START) / 86400
        + 5 * np.sin(day)
        + 3 * np.cos(week)
        + rng.normal(0, 1, t.size)
    )
    return t, y


def _parity(model, state: ProphetState, t: np.ndarray) -> None:
    import pandas as pd

    df = pd.DataFrame({"ds": to_ds(t)})
    regs = calendar_regressors(t)
    for name in model.extra_regressors:
        df[name] = regs[name]
    expected = model.predict(df)["yhat"].to_numpy()
    got = state.predict(t, regs if model.extra_regressors else None)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())


def _eval_points(t: np.ndarray) -> np.ndarray:
    future = (
        t[-1] + np.arange(1, 24 * 10) * 1800.0
    )  # 10 days ahead, half-hour grid (off the fit grid)
    return np.concatenate([t, future])


def test_parity_seasonal_with_calendar_regressors() -> None:
    t, y = _series(14, seed=1)
    model = fit_prophet(
        t,
        y,
        calendar_regressors(t),
        daily_seasonality=True,
        weekly_seasonality=True,
        changepoint_prior_scale=0.05,
    )
    state = export_prophet(model)
    assert [r.name for r in state.regressors] == ["hour", "is_weekend"]
    assert {s.name for s in state.seasonalities} == {"daily", "weekly"}
    _parity(model, state, _eval_points(t))
    assert 0.5 < state.residual_std < 2.0  # noise std is 1
    # JSON round trip keeps the same curve
    again = ProphetState.from_dict(json.loads(json.dumps(state.to_dict())))
    pts = _eval_points(t)
    np.testing.assert_array_equal(
        again.predict(pts, calendar_regressors(pts)), state.predict(pts, calendar_regressors(pts))
    )


def test_parity_changepoints_no_regressors() -> None:
    t, y = _series(10, seed=2)
    y = y + np.where(
        t > START + 6 * 86400, 2.0 * (t - START - 6 * 86400) / 86400, 0.0
    )  # slope change
    model = fit_prophet(t, y, n_changepoints=10, daily_seasonality=True)
    state = export_prophet(model)
    assert state.changepoints_t.size == 10
    assert np.abs(state.delta).max() > 0  # the changepoints carry weight
    _parity(model, state, _eval_points(t))
