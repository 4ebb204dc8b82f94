"""ProphetState evaluation, serialisation and calendar regressors (no prophet import)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metrics_ai.prophet_numpy import ProphetState, Regressor, Seasonality, calendar_regressors


def _state() -> ProphetState:
    return ProphetState(
        growth="linear",
        k=1.0,
        m=0.5,
        delta=np.array([-1.0]),
        changepoints_t=np.array([0.5]),
        start=0.0,
        t_scale=86400.0,
        y_scale=10.0,
        seasonalities=[Seasonality("daily", 1.0, 1, "additive", np.array([0.1, 0.0]))],
        regressors=[Regressor("hour", 12.0, 6.0, "additive", 0.0)],
    )


def test_piecewise_trend_bends_at_changepoint() -> None:
    s = _state()
    t = np.array([0.0, 0.25, 0.5, 0.75, 1.0]) * 86400
    # slope 1 until t=0.5, then 0: scaled trend 0.5, 0.75, 1.0, 1.0, 1.0
    np.testing.assert_allclose(s.trend(t), [5.0, 7.5, 10.0, 10.0, 10.0])


def test_seasonal_term_and_yhat() -> None:
    s = _state()
    t = np.array([0.25]) * 86400  # sin(2*pi*0.25) = 1 -> +0.1 * y_scale
    comps = s.components(t, calendar_regressors(t))
    np.testing.assert_allclose(comps["seasonal"], [1.0])
    np.testing.assert_allclose(comps["yhat"], comps["trend"] + 1.0)


def test_missing_regressor_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        _state().predict(np.array([0.0]))


def test_dict_round_trip_is_json_safe_and_exact() -> None:
    s = _state()
    again = ProphetState.from_dict(json.loads(json.dumps(s.to_dict())))
    t = np.linspace(0, 3 * 86400, 50)
    np.testing.assert_array_equal(
        again.predict(t, calendar_regressors(t)), s.predict(t, calendar_regressors(t))
    )


def test_from_dict_rejects_bad_state() -> None:
    d = _state().to_dict()
    d["delta"] = [1.0, 2.0]
    with pytest.raises(ValueError):
        ProphetState.from_dict(d)
    with pytest.raises(ValueError):
        ProphetState.from_dict({"growth": "linear"})


def test_calendar_regressors_utc() -> None:
    # 2024-01-06 is a Saturday; 13:30 UTC
    t = np.array([1704547800.0, 1704547800.0 + 2 * 86400])
    regs = calendar_regressors(t)
    np.testing.assert_array_equal(regs["hour"], [13.0, 13.0])
    np.testing.assert_array_equal(regs["is_weekend"], [1.0, 0.0])
