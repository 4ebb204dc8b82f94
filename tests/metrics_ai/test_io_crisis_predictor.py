"""io-crisis's request path with hand-built Prophet states: calls, fallbacks, V2.

What it shares with disk-eta (4xx naming the field, 404s, save/load) is held for both in
``test_crossing_predictors.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from metrics_ai.crossing import DAY
from metrics_ai.families.io_crisis import IoCrisisConfig, IoCrisisPredictor, SeriesState
from metrics_ai.prophet_numpy import ProphetState, Seasonality
from metrics_ai.series import History
from tests.metrics_ai.crossing_helpers import as_json, trend_state, v2
from tests.serving.codec_calls import v1
from tests.serving.codec_calls import v2 as v2_call

END = 1_790_006_400.0  # 2026-09-21T... a whole hour


def state(level_at_end: float, rate_per_day: float, daily_amp: float = 0.0) -> ProphetState:
    """Trend level + rate * days after END, plus an optional daily sine."""
    seas = [Seasonality("daily", 1.0, 1, "additive", np.array([daily_amp, 0.0]))] if daily_amp else []
    return trend_state(level_at_end, rate_per_day, END, seas)


def series(st: ProphetState, days: float = 3, step: float = 300) -> History:
    t = END - np.arange(int(days * DAY / step))[::-1] * step
    return History(t, st.predict(t))


RISING = state(0.20, 0.04)  # reaches 0.30 after 2.5 days
CALM = state(0.05, 0.0, daily_amp=0.02)


def crisis_predictor() -> IoCrisisPredictor:
    """n1: io_wait RISING and a flat net_rx; n2: a CALM io_wait."""
    return IoCrisisPredictor(
        IoCrisisConfig(),
        {
            ("", "n1", "io_wait"): SeriesState(RISING, series(RISING)),
            ("", "n1", "net_rx"): SeriesState(state(3e8, 0.0), series(state(3e8, 0.0))),
            ("", "n2", "io_wait"): SeriesState(CALM, series(CALM)),
        },
    )


@pytest.fixture
def predictor() -> IoCrisisPredictor:
    return crisis_predictor()


def test_rising_io_wait_is_a_crisis_at_the_right_time(predictor: IoCrisisPredictor) -> None:
    [p] = v1(predictor, [{"node": "n1", "signal": "io_wait", "history": as_json(series(RISING))}])
    assert p["crisis"] is True and p["days_to_crisis"] == pytest.approx(2.5, abs=0.01)
    assert p["forecast_peak"] == pytest.approx(0.20 + 0.04 * 7, abs=1e-6)
    assert p["threshold"] == 0.30 and p["source"] == "request" and p["signal"] == "io_wait"


def test_calm_series_and_saved_state(predictor: IoCrisisPredictor) -> None:
    p1, p2 = v1(predictor, [{"node": "n2", "signal": "io_wait"}, {"node": "n1", "signal": "net_rx"}])
    assert p1["crisis"] is False and p1["days_to_crisis"] is None and p1["source"] == "training-state"
    assert p1["forecast_peak"] == pytest.approx(0.07, abs=1e-3)
    assert p2["crisis"] is False and p2["threshold"] == 9.5e8


def test_level_correction_brings_the_crisis_forward(predictor: IoCrisisPredictor) -> None:
    hotter = History(series(RISING).timestamps, series(RISING).values + 0.05)
    [p] = v1(predictor, [{"node": "n1", "signal": "io_wait", "history": as_json(hotter)}])
    assert p["days_to_crisis"] == pytest.approx(1.25, abs=0.01)


def test_beyond_the_horizon_is_no_crisis(predictor: IoCrisisPredictor) -> None:
    slow = state(0.10, 0.02)  # 10 days to 0.30: outside the 7-day horizon
    predictor.series[("", "n1", "io_wait")] = SeriesState(slow, series(slow))
    [p] = v1(predictor, [{"node": "n1", "signal": "io_wait"}])
    assert p["crisis"] is False and p["days_to_crisis"] is None


def test_unknown_node_with_history_uses_drift_fallback(predictor: IoCrisisPredictor) -> None:
    [p] = v1(predictor, [{"node": "new", "signal": "io_wait", "history": as_json(series(RISING))}])
    assert p["crisis"] is True and p["days_to_crisis"] == pytest.approx(2.5, abs=0.1)
    assert "unknown" in p["note"]


def test_too_few_points_says_so(predictor: IoCrisisPredictor) -> None:
    h = series(RISING, days=20 * 300 / DAY)
    [p] = v1(predictor, [{"node": "n1", "signal": "io_wait", "history": as_json(h)}])
    assert p["crisis"] is False and p["days_to_crisis"] is None and "50" in p["reason"]


def test_v2_outputs(predictor: IoCrisisPredictor) -> None:
    rising = series(RISING)
    out = v2_call(
        predictor,
        v2(
            predictor,
            ["n1", "n2", "n1"],
            ["io_wait", "io_wait", "io_wait"],
            [rising, None, History(rising.timestamps[:10], rising.values[:10])],
            len(rising),
        ),
    )
    assert out["crisis"].dtype == np.bool_ and list(out["crisis"]) == [True, False, False]
    assert out["days_to_crisis"].dtype == np.float32
    assert out["days_to_crisis"][0] == pytest.approx(2.5, abs=0.01)
    assert out["days_to_crisis"][1] == np.inf and np.isnan(out["days_to_crisis"][2])
