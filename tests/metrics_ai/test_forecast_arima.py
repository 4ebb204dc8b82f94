"""ArimaState (NumPy) reproduces statsmodels' ARIMA(2,1,0) forecasts from fitted parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from metrics_ai.arima_numpy import ArimaState

ARIMA = pytest.importorskip("statsmodels.tsa.arima.model").ARIMA


def _series(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 5 * np.sin(2 * np.pi * t / 288) + np.cumsum(rng.normal(0, 0.3, n)) + rng.normal(0, 1, n)


@pytest.fixture(scope="module")
def fitted():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ARIMA(_series(1500, 0), order=(2, 1, 0)).fit()
    return res, ArimaState(tuple(float(a) for a in res.arparams), float(res.params[-1]))


def test_forecast_matches_statsmodels_on_its_own_data(fitted) -> None:  # type: ignore[no-untyped-def]
    res, state = fitted
    np.testing.assert_allclose(state.forecast(_series(1500, 0), 15), res.forecast(15), atol=1e-6)


@pytest.mark.parametrize("length", [3, 4, 60, 1440])
def test_filtered_forward_on_fresh_history_matches_apply(fitted, length: int) -> None:  # type: ignore[no-untyped-def]
    res, state = fitted
    fresh = _series(2000, 7)[-length:]
    np.testing.assert_allclose(state.forecast(fresh, 15), res.apply(fresh).forecast(15), atol=1e-6)


def test_batched_and_backtest_forecasts_agree_with_single_rows(fitted) -> None:  # type: ignore[no-untyped-def]
    _, state = fitted
    y = _series(300, 3)
    cuts = np.array([10, 100, 299])
    batch = state.forecast_at(y, cuts, 5)
    for row, c in zip(batch, cuts, strict=True):
        np.testing.assert_allclose(row, state.forecast(y[: c + 1], 5), atol=1e-12)


def test_round_trip_and_pooled_and_bad_order() -> None:
    state = ArimaState((0.3, -0.1), 2.0)
    assert ArimaState.from_dict(state.to_dict()) == state
    pooled = ArimaState.pooled([ArimaState((0.1, 0.0)), ArimaState((0.3, -0.2)), ArimaState((0.5, 0.1))])
    assert pooled.ar == (0.3, 0.0)
    with pytest.raises(ValueError, match="order"):
        ArimaState.from_dict({"order": [1, 0, 1], "ar": [0.5]})
    with pytest.raises(ValueError, match="needs 3 points"):
        state.forecast(np.array([1.0, 2.0]), 3)
