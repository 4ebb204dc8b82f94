"""io-crisis's request path with hand-built Prophet states: calls, fallbacks, 4xx, V2, save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metrics_ai.crossing import DAY, HOUR
from metrics_ai.errors import InvalidInputError, UnknownEntityError
from metrics_ai.families.io_crisis import IoCrisisConfig, IoCrisisPredictor, SeriesState
from metrics_ai.prophet_numpy import ProphetState, Seasonality
from metrics_ai.series import History

END = 1_790_006_400.0  # 2026-09-21T... a whole hour


def state(level_at_end: float, rate_per_day: float, daily_amp: float = 0.0) -> ProphetState:
    """Trend level + rate * days after END, plus an optional daily sine."""
    seas = (
        [Seasonality("daily", 1.0, 1, "additive", np.array([daily_amp, 0.0]))] if daily_amp else []
    )
    return ProphetState(
        growth="linear",
        k=rate_per_day,
        m=level_at_end,
        delta=np.zeros(0),
        changepoints_t=np.zeros(0),
        start=END,
        t_scale=DAY,
        y_scale=1.0,
        seasonalities=seas,
    )


def series(st: ProphetState, days: float = 3, step: float = 300) -> History:
    t = END - np.arange(int(days * DAY / step))[::-1] * step
    return History(t, st.predict(t))


def as_json(h: History) -> dict[str, list[float]]:
    return {"timestamps": h.timestamps.tolist(), "values": h.values.tolist()}


RISING = state(0.20, 0.04)  # reaches 0.30 after 2.5 days
CALM = state(0.05, 0.0, daily_amp=0.02)


@pytest.fixture
def predictor() -> IoCrisisPredictor:
    return IoCrisisPredictor(
        IoCrisisConfig(),
        {
            ("", "n1", "io_wait"): SeriesState(RISING, series(RISING)),
            ("", "n1", "net_rx"): SeriesState(state(3e8, 0.0), series(state(3e8, 0.0))),
            ("", "n2", "io_wait"): SeriesState(CALM, series(CALM)),
        },
    )


def test_rising_io_wait_is_a_crisis_at_the_right_time(predictor: IoCrisisPredictor) -> None:
    [p] = predictor.predict_v1(
        [{"node": "n1", "signal": "io_wait", "history": as_json(series(RISING))}]
    )
    assert p["crisis"] is True and p["days_to_crisis"] == pytest.approx(2.5, abs=0.01)
    assert p["forecast_peak"] == pytest.approx(0.20 + 0.04 * 7, abs=1e-6)
    assert p["threshold"] == 0.30 and p["source"] == "request" and p["signal"] == "io_wait"


def test_calm_series_and_saved_state(predictor: IoCrisisPredictor) -> None:
    p1, p2 = predictor.predict_v1(
        [{"node": "n2", "signal": "io_wait"}, {"node": "n1", "signal": "net_rx"}]
    )
    assert (
        p1["crisis"] is False and p1["days_to_crisis"] is None and p1["source"] == "training-state"
    )
    assert p1["forecast_peak"] == pytest.approx(0.07, abs=1e-3)
    assert p2["crisis"] is False and p2["threshold"] == 9.5e8


def test_level_correction_brings_the_crisis_forward(predictor: IoCrisisPredictor) -> None:
    hotter = History(series(RISING).timestamps, series(RISING).values + 0.05)
    [p] = predictor.predict_v1([{"node": "n1", "signal": "io_wait", "history": as_json(hotter)}])
    assert p["days_to_crisis"] == pytest.approx(1.25, abs=0.01)


def test_beyond_the_horizon_is_no_crisis(predictor: IoCrisisPredictor) -> None:
    slow = state(0.10, 0.02)  # 10 days to 0.30: outside the 7-day horizon
    predictor.series[("", "n1", "io_wait")] = SeriesState(slow, series(slow))
    [p] = predictor.predict_v1([{"node": "n1", "signal": "io_wait"}])
    assert p["crisis"] is False and p["days_to_crisis"] is None


def test_unknown_node_with_history_uses_drift_fallback(predictor: IoCrisisPredictor) -> None:
    [p] = predictor.predict_v1(
        [{"node": "new", "signal": "io_wait", "history": as_json(series(RISING))}]
    )
    assert p["crisis"] is True and p["days_to_crisis"] == pytest.approx(2.5, abs=0.1)
    assert "unknown" in p["note"]


def test_unknown_node_without_history_is_404(predictor: IoCrisisPredictor) -> None:
    with pytest.raises(UnknownEntityError) as err:
        predictor.predict_v1([{"node": "ghost", "signal": "net_tx"}])
    assert (
        "ghost" in err.value.message and "net_tx" in err.value.message and err.value.status == 404
    )


def test_too_few_points_says_so(predictor: IoCrisisPredictor) -> None:
    h = series(RISING, days=20 * 300 / DAY)
    [p] = predictor.predict_v1([{"node": "n1", "signal": "io_wait", "history": as_json(h)}])
    assert p["crisis"] is False and p["days_to_crisis"] is None and "50" in p["reason"]


GOOD = {"timestamps": [END + 60 * i for i in range(3)], "values": [0.1, 0.1, 0.1]}


@pytest.mark.parametrize(
    ("instances", "field"),
    [
        ("io_wait", "instances"),
        ([{"signal": "io_wait"}], "instances[0].node"),
        ([{"node": "n1", "signal": "cpu"}], "instances[0].signal"),
        ([{"node": "n1"}], "instances[0].signal"),
        ([{"node": "n1", "signal": "io_wait", "extra": 1}], "instances[0]"),
        (
            [{"node": "n1", "signal": "io_wait", "history": {**GOOD, "values": [0.1, 1.5, 0.1]}}],
            "instances[0].history.values[1]",
        ),
        (
            [{"node": "n1", "signal": "net_rx", "history": {**GOOD, "values": [1e8, -5.0, 1e8]}}],
            "instances[0].history.values[1]",
        ),
        (
            [{"node": "n1", "signal": "net_rx", "history": {**GOOD, "values": [1e8, "x", 1e8]}}],
            "instances[0].history.values[1]",
        ),
        ([{"node": "n1", "signal": "io_wait", "history": [0.1, 0.2]}], "instances[0].history"),
    ],
)
def test_malformed_v1_is_400_naming_the_field(
    predictor: IoCrisisPredictor, instances: Any, field: str
) -> None:
    with pytest.raises(InvalidInputError) as err:
        predictor.predict_v1(instances)
    assert err.value.field == field


def v2(
    nodes: list[str], signals: list[str], histories: list[History | None], width: int
) -> dict[str, np.ndarray]:
    ts = np.zeros((len(nodes), width), dtype=np.int64)
    vs = np.full((len(nodes), width), np.nan, dtype=np.float32)
    for i, h in enumerate(histories):
        if h is not None:
            ts[i, : len(h)] = h.timestamps.astype(np.int64)
            vs[i, : len(h)] = h.values
    return {
        "entity": np.array([n.encode() for n in nodes], dtype=object),
        "signal": np.array([s.encode() for s in signals], dtype=object),
        "timestamps": ts,
        "values": vs,
    }


def test_v2_outputs(predictor: IoCrisisPredictor) -> None:
    rising = series(RISING)
    out = predictor.infer_v2(
        v2(
            ["n1", "n2", "n1"],
            ["io_wait", "io_wait", "io_wait"],
            [rising, None, History(rising.timestamps[:10], rising.values[:10])],
            len(rising),
        )
    )
    assert out["crisis"].dtype == np.bool_ and list(out["crisis"]) == [True, False, False]
    assert out["days_to_crisis"].dtype == np.float32
    assert out["days_to_crisis"][0] == pytest.approx(2.5, abs=0.01)
    assert out["days_to_crisis"][1] == np.inf and np.isnan(out["days_to_crisis"][2])


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(signal=np.array([b"io_wait", b"disk"], dtype=object)), "signal[1]"),
        (lambda d: d.update(entity=np.array([b"n1"], dtype=object)), "entity"),
        (lambda d: d["values"].__setitem__((0, 1), 2.0), "values[0][1]"),
        (lambda d: d.update(values=d["values"].astype(object)), "values"),
        (lambda d: d.update(timestamps=d["timestamps"].astype(str)), "timestamps"),
    ],
)
def test_malformed_v2_is_400_naming_the_field(
    predictor: IoCrisisPredictor, mutate: Any, field: str
) -> None:
    h = series(RISING, days=6 * HOUR / DAY)
    inputs = v2(["n1", "n1"], ["io_wait", "io_wait"], [h, h], len(h))
    mutate(inputs)
    with pytest.raises(InvalidInputError) as err:
        predictor.infer_v2(inputs)
    assert err.value.field == field


def test_save_load_same_predictions(predictor: IoCrisisPredictor, tmp_path: Path) -> None:
    predictor.save(tmp_path)
    again = IoCrisisPredictor.load(tmp_path, None)  # type: ignore[arg-type]
    instances = predictor.smoke_instances() + [{"node": "n1", "signal": "net_rx"}]
    assert again.predict_v1(instances) == predictor.predict_v1(instances)
