"""The backtest gates, per series, a component whose calibration MAE is over gate_k x naive."""

from __future__ import annotations

import numpy as np

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.prophet_numpy import ProphetState, Seasonality
from training.families.forecast.backtest import Fitted, backtest
from training.families.forecast.series import SeriesData

STEP = 300
T0 = 1_794_830_400.0


def _fitted(amplitude: float) -> Fitted:
    """Four days of a noisy level at 5 minutes; ARIMA near a random walk; Prophet with a daily
    cycle of ``amplitude`` (the series has none: a large one makes Prophet far worse than naive)."""
    n = 4 * 288
    rng = np.random.default_rng(3)
    t = T0 + STEP * np.arange(n, dtype=np.float64)
    y = 0.5 + np.cumsum(rng.normal(0, 0.002, n))
    prophet = ProphetState(
        growth="linear",
        k=0.0,
        m=0.5,
        delta=np.zeros(0),
        changepoints_t=np.zeros(0),
        start=T0,
        t_scale=float(t[-1] - T0),
        y_scale=1.0,
        seasonalities=[Seasonality("daily", 1.0, 1, "additive", np.array([amplitude, 0.0]))],
    )
    data = SeriesData("c1", "cpu", {"cluster": "c1"}, t, y, STEP)
    n_train = int(n * 0.8)
    return Fitted(data, n_train, n_train - int(n_train * 0.2), 3, prophet=prophet, arima=ArimaState((0.0, 0.0)))


def test_a_component_far_worse_than_naive_is_gated_and_left_out_of_the_ensemble() -> None:
    cfg = ForecastConfig(seq_len=12, components=("prophet", "arima"))
    bt = backtest(_fitted(3.0), cfg)
    assert set(bt.gated) == {"prophet"} and bt.gated["prophet"] > cfg.gate_k
    m = bt.metrics
    assert m["gated"] == bt.gated
    assert m["mae_prophet"] > 3 * m["mae_naive"]  # still measured: what it would have scored
    assert m["mae_ensemble"] == m["mae_arima"]  # the ensemble is ARIMA's alone
    assert "prophet" not in bt.weights and "prophet" not in bt.test_forecasts


def test_components_within_the_gate_all_serve() -> None:
    bt = backtest(_fitted(0.0), ForecastConfig(seq_len=12, components=("prophet", "arima")))
    assert bt.gated == {} and {"prophet", "arima"} <= set(bt.weights)
