"""ForecastPredictor on a hand-built state: answers, sources, fallbacks, validation, V2, files.

The state is built directly (a small Prophet curve, ARIMA coefficients, a random
NumPy LSTM), so these tests need neither training nor TensorFlow; the trained path
is covered in tests/training/test_forecast_trainer.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.errors import ArtifactError, InvalidInputError, UnknownEntityError
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.families.forecast.crisis import crisis_check
from metrics_ai.families.forecast.models import rfc3339
from metrics_ai.families.forecast.predictor import ForecastPredictor
from metrics_ai.families.forecast.state import ForecastState, SeriesModel, SignalPool
from metrics_ai.lstm_numpy import LstmLayer, NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState, Seasonality
from metrics_ai.series import SIGNAL_RANGES, History
from metrics_ai.series import SIGNALS as SERIES_SIGNALS
from tests.serving.codec_calls import smoke, v1
from tests.serving.codec_calls import v2 as v2_call

T0 = 1_794_830_400.0  # 2026-11-16T12:00:00Z
SEQ, H = 20, 15


def _lstm(rng: np.random.Generator, h: int = H) -> NumpyLSTM:
    def layer(inputs: int) -> LstmLayer:
        return LstmLayer(rng.normal(0, 0.3, (inputs, 32)), rng.normal(0, 0.3, (8, 32)), rng.normal(0, 0.1, 32))

    return NumpyLSTM((layer(1), layer(8)), rng.normal(0, 0.3, (8, h)), np.full(h, 0.5))


def _history(n: int = 120, step: float = 60.0, end: float = T0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = end - step * np.arange(n)[::-1]
    return t, 0.5 + 0.05 * np.sin(2 * np.pi * t / 86400) + rng.normal(0, 0.005, n)


def _state(step: float = 60.0) -> ForecastState:
    """Two series and two pools fitted at ``step`` s (horizon: 15 minutes at that step)."""
    rng = np.random.default_rng(0)
    h = int(900 // step)
    prophet = ProphetState(
        growth="linear",
        k=0.0,
        m=0.5,
        delta=np.zeros(0),
        changepoints_t=np.zeros(0),
        start=T0 - 7 * 86400,
        t_scale=7 * 86400.0,
        y_scale=1.0,
        seasonalities=[Seasonality("daily", 1.0, 1, "additive", np.array([0.05, 0.0]))],
    )
    t, y = _history(step=step)
    ones = {c: np.ones(h) for c in ("prophet", "arima", "lstm")}
    series = {}
    for entity, signal, labels in (
        ("prod-east", "cpu", {"cluster": "prod-east"}),
        ("prod-east-worker-0", "io_wait", {"cluster": "prod-east", "node": "prod-east-worker-0"}),
    ):
        key = "series/cpu/prod-east" if signal == "cpu" else "pooled/io_wait"
        series[(entity, signal)] = SeriesModel(
            entity=entity,
            signal=signal,
            labels=labels,
            step=step,
            prophet=prophet,
            anchor=3,
            arima=ArimaState((0.2, -0.1)),
            lstm=key,
            scaler=None,
            weights=ones,
            rel_halfwidth=np.linspace(1, 3, h),
            scale=0.005,
            backtest={"mae_ensemble": 0.01, "mae_naive": 0.012},
            last_t=t,
            last_y=y,
        )
    pools = {
        s: SignalPool(
            signal=s,
            step=step,
            arima=ArimaState((0.1, 0.0)),
            lstms=[k],
            weights={"arima": np.ones(h), "lstm": np.ones(h)},
            rel_halfwidth=np.linspace(1, 3, h),
            backtest={"mae_ensemble": 0.02},
        )
        for s, k in (("cpu", "series/cpu/prod-east"), ("io_wait", "pooled/io_wait"))
    }
    return ForecastState(series, pools, {"series/cpu/prod-east": _lstm(rng, h), "pooled/io_wait": _lstm(rng, h)})


@pytest.fixture
def predictor() -> ForecastPredictor:
    return ForecastPredictor(ForecastConfig(seq_len=SEQ), _state())


def _hist(n: int = 120, step: float = 60.0, **kw: Any) -> dict[str, list[float]]:
    t, y = _history(n, step, **kw)
    return {"timestamps": t.tolist(), "values": y.tolist()}


class FakeFetcher:
    def __init__(self, history: History | None) -> None:
        self.history = history
        self.calls: list[tuple[str, dict[str, str], float, int]] = []

    def fetch(self, signal: str, labels: Mapping[str, str], seconds: float, step: int) -> History | None:
        self.calls.append((signal, dict(labels), seconds, step))
        return self.history


def test_known_entity_with_history(predictor: ForecastPredictor) -> None:
    [out] = v1(predictor, [{"entity": "prod-east", "signal": "cpu", "history": _hist()}])
    assert out["source"] == "request" and out["model"] == "entity"
    assert out["timestamps"][0] == "2026-11-16T12:01:00Z" and out["timestamps"][-1] == "2026-11-16T12:15:00Z"
    comps = out["components"]
    assert set(comps) == {"prophet", "arima", "lstm"} and all(len(v) == H for v in comps.values())
    np.testing.assert_allclose(out["ensemble"], np.median([comps[c] for c in comps], axis=0))
    assert all(lo < e < up for lo, e, up in zip(out["lower"], out["ensemble"], out["upper"], strict=True))
    widths = np.subtract(out["upper"], out["lower"])
    assert widths[-1] > widths[0]  # calibrated per horizon step
    assert set(out["deviation"]) >= {"is_anomaly", "score", "severity"} and out["deviation"]["severity"] == "INFO"
    assert out["backtest"]["mae_ensemble"] == 0.01


def test_crisis_check_for_io_and_network_signals_only(predictor: ForecastPredictor) -> None:
    t, y = _history()
    busy = {"timestamps": t.tolist(), "values": (y - 0.05).tolist()}  # io_wait ~0.45: above 0.30
    calm = {"timestamps": t.tolist(), "values": (y - 0.4).tolist()}  # ~0.10
    [cpu, hot, cool] = v1(
        predictor,
        [
            {"entity": "prod-east", "signal": "cpu", "history": _hist()},
            {"entity": "prod-east-worker-0", "signal": "io_wait", "history": busy},
            {"entity": "prod-east-worker-0", "signal": "io_wait", "history": calm},
        ],
    )
    assert cpu["crisis"] is None  # cpu and memory have no crisis threshold
    assert hot["crisis"] == {"threshold": 0.30, "crosses": True, "at": hot["timestamps"][0]}
    assert min(hot["ensemble"]) > 0.30
    assert cool["crisis"] == {"threshold": 0.30, "crosses": False, "at": None}
    assert max(cool["ensemble"]) < 0.30


def test_crisis_check_names_the_first_crossing() -> None:
    times = T0 + 60.0 * np.arange(1, 6)
    rising = np.array([0.2, 0.28, 0.31, 0.29, 0.4])
    assert crisis_check("io_wait", times, rising, {"io_wait": 0.3}) == {
        "threshold": 0.3,
        "crosses": True,
        "at": T0 + 180.0,
    }
    net = crisis_check("net_tx", times, rising * 3e9, {"net_tx": 9.5e8}, rfc3339)
    assert net is not None and net["at"] == "2026-11-16T12:05:00Z"
    assert crisis_check("memory", times, rising, {"io_wait": 0.3}) is None


def test_prophet_follows_a_level_shift_in_the_history(predictor: ForecastPredictor) -> None:
    """The fitted curve sits at 0.5; the history steps up to 0.7: Prophet's answer starts there."""
    t, y = _history()
    shifted = np.where(np.arange(t.size) >= t.size - 30, y + 0.2, y)
    [out] = v1(
        predictor,
        [{"entity": "prod-east", "signal": "cpu", "history": {"timestamps": t.tolist(), "values": shifted.tolist()}}],
    )
    prophet = np.asarray(out["components"]["prophet"])
    np.testing.assert_allclose(prophet, 0.7, atol=0.02)  # the new level for the whole horizon, not the curve's 0.5
    [before] = v1(predictor, [{"entity": "prod-east", "signal": "cpu", "history": _hist()}])
    np.testing.assert_allclose(prophet - np.asarray(before["components"]["prophet"]), 0.2, atol=0.02)


@pytest.mark.parametrize(
    ("signal", "entity", "level", "slope"),
    [
        ("cpu", "prod-east", 0.99, 0.002),  # a ratio rising through 1
        ("io_wait", "prod-east-worker-0", 0.01, -0.002),  # a ratio falling through 0
    ],
)
def test_no_component_answers_outside_the_signals_range(
    predictor: ForecastPredictor, signal: str, entity: str, level: float, slope: float
) -> None:
    t, _ = _history()
    y = np.clip(level + slope * (np.arange(t.size) - t.size + 1), 0, 1)
    for who in (entity, "unseen"):
        [out] = v1(
            predictor, [{"entity": who, "signal": signal, "history": {"timestamps": t.tolist(), "values": y.tolist()}}]
        )
        answers = [out["ensemble"], out["lower"], out["upper"], *(c for c in out["components"].values() if c)]
        assert all(0.0 <= v <= 1.0 for a in answers for v in a), out
    assert SIGNAL_RANGES["cpu"] == (0.0, 1.0) and SIGNAL_RANGES["disk_used_pct"] == (0.0, 100.0)
    assert set(SIGNAL_RANGES) == set(SERIES_SIGNALS) and SIGNAL_RANGES["net_rx"] == (0.0, np.inf)


def test_flat_history_is_not_a_deviation(predictor: ForecastPredictor) -> None:
    hist = {**_hist(), "values": [0.0] * 120}
    for entity in ("prod-east", "unseen"):
        [out] = v1(predictor, [{"entity": entity, "signal": "cpu", "history": hist}])
        assert out["deviation"]["severity"] == "INFO" and out["deviation"]["score"] == 0.0


def test_spike_in_latest_value_is_a_deviation(predictor: ForecastPredictor) -> None:
    hist = _hist()
    hist["values"][-1] *= 2.0
    [out] = v1(predictor, [{"entity": "prod-east", "signal": "cpu", "history": hist}])
    assert out["deviation"]["is_anomaly"] and out["deviation"]["severity"] == "CRITICAL"


def test_sources_without_history(predictor: ForecastPredictor) -> None:
    [out] = v1(predictor, [{"entity": "prod-east", "signal": "cpu"}])
    assert out["source"] == "training-state"
    predictor.fetcher = FakeFetcher(None)
    assert v1(predictor, [{"entity": "prod-east", "signal": "cpu"}])[0]["source"] == "training-state"
    t, y = _history(100, end=T0 + 3600)
    fetcher = FakeFetcher(History(t, y))
    predictor.fetcher = fetcher
    [out] = v1(predictor, [{"entity": "prod-east-worker-0", "signal": "io_wait"}])
    assert out["source"] == "prometheus" and out["timestamps"][0] == "2026-11-16T13:01:00Z"
    assert fetcher.calls[0][:2] == (
        "io_wait",
        {"cluster": "prod-east", "node": "prod-east-worker-0"},
    )
    calls = len(fetcher.calls)
    with pytest.raises(UnknownEntityError, match="instances\\[0\\].entity"):  # fetched only for known entities
        v1(predictor, [{"entity": "never-seen", "signal": "io_wait"}])
    assert len(fetcher.calls) == calls


def test_unseen_entity_with_history_gets_the_pooled_fallback(predictor: ForecastPredictor) -> None:
    [out] = v1(predictor, [{"entity": "new-cluster", "signal": "cpu", "history": _hist()}])
    assert out["model"] == "pooled" and out["components"]["prophet"] is None
    assert out["components"]["arima"] is not None and out["components"]["lstm"] is not None
    assert any("prophet" in n for n in out["notes"]) and out["backtest"] == {"mae_ensemble": 0.02}
    assert all(np.isfinite(out["lower"])) and out["lower"][0] < out["upper"][0]


def test_history_coarser_than_the_fitted_step_is_a_400_naming_it(predictor: ForecastPredictor) -> None:
    """A 60 s model asked with 5-minute history: no component was fitted at 300 s, so none runs."""
    with pytest.raises(InvalidInputError) as caught:
        v1(predictor, [{"entity": "prod-east", "signal": "cpu", "history": _hist(step=300.0)}])
    assert caught.value.field == "instances[0].history.timestamps"
    assert "300 s step" in str(caught.value) and "60 s step" in str(caught.value)


def test_batch_equals_single_requests(predictor: ForecastPredictor) -> None:
    instances = [
        {"entity": e, "signal": s, "history": _hist(seed=i)}
        for i, (e, s) in enumerate([("prod-east", "cpu"), ("x", "io_wait"), ("prod-east-worker-0", "io_wait")] * 3)
    ]
    batch = v1(predictor, instances)
    for inst, out in zip(instances, batch, strict=True):
        np.testing.assert_allclose(out["ensemble"], v1(predictor, [inst])[0]["ensemble"], rtol=1e-6)


def _bad(**history: Any) -> dict[str, Any]:
    return {"entity": "prod-east", "signal": "cpu", "history": {**_hist(), **history}}


@pytest.mark.parametrize(
    ("instances", "field", "says"),
    [
        (["nope"], "instances[0]", "object"),
        ([{"signal": "cpu"}], "instances[0].entity", "missing"),
        ([{"entity": 3, "signal": "cpu"}], "instances[0].entity", "string"),
        ([{"entity": "a", "signal": "disk"}], "instances[0].signal", "unknown signal"),
        (
            [{"entity": "a", "signal": "memory", "history": _hist()}],
            "instances[0].signal",
            "trained without",
        ),
        ([{"entity": "a", "signal": "cpu", "extra": 1}], "instances[0].extra", "unknown key"),
        ([{"entity": "a", "signal": "cpu", "history": [1, 2]}], "instances[0].history", "object"),
        ([_bad(values=[0.5] * 119)], "instances[0].history", "must match"),
        ([_bad(timestamps=[], values=[])], "instances[0].history.values", "at least"),
        (
            [_bad(timestamps=_hist()["timestamps"][::-1])],
            "instances[0].history.timestamps[1]",
            "increase",
        ),
        (
            [_bad(timestamps=["2026-11-16T10:00:00Z", "yesterday"] + _hist()["timestamps"][2:])],
            "instances[0].history.timestamps[1]",
            "RFC 3339",
        ),
        (
            [_bad(values=[*_hist()["values"][:5], float("nan"), *_hist()["values"][6:]])],
            "instances[0].history.values[5]",
            "NaN",
        ),
        (
            [_bad(values=[*_hist()["values"][:5], "x", *_hist()["values"][6:]])],
            "instances[0].history.values[5]",
            "number",
        ),
        (
            [{"entity": "a", "signal": "cpu", "history": _hist(n=10)}],
            "instances[0].history.values",
            "at least 21",
        ),
        (
            [{"entity": "a", "signal": "cpu", "history": _hist(step=0.5)}],
            "instances[0].history.timestamps",
            "step",
        ),
        ([{"entity": "a", "signal": "cpu", "history": _hist(end=3e11)}], "instances[0].history.timestamps", "9999"),
        (
            [
                {
                    "entity": "a",
                    "signal": "cpu",
                    "history": {**_hist(), "values": [(-1) ** i * 1.7e308 for i in range(120)]},
                }
            ],
            "instances[0].history.values",
            "overflow",
        ),
    ],
)
def test_malformed_requests_name_the_field(predictor: ForecastPredictor, instances: Any, field: str, says: str) -> None:
    with pytest.raises(InvalidInputError, match=says) as err:
        v1(predictor, instances)
    assert err.value.field == field


def test_v2(predictor: ForecastPredictor) -> None:
    t, y = _history()
    inputs = {
        "entity": np.array([b"prod-east", b"unseen"], dtype=object),
        "signal": np.array([b"cpu", b"io_wait"], dtype=object),
        "timestamps": np.stack([t, t]).astype(np.int64),
        "values": np.stack([y, y]).astype(np.float32),
    }
    out = v2_call(predictor, inputs)
    assert {k: (v.dtype.name, v.shape) for k, v in out.items()} == {
        "forecast": ("float32", (2, H)),
        "lower": ("float32", (2, H)),
        "upper": ("float32", (2, H)),
        "forecast_timestamps": ("int64", (2, H)),
    }
    assert out["forecast_timestamps"][0, 0] == int(T0) + 60
    v1_answer = v1(
        predictor,
        [
            {
                "entity": "prod-east",
                "signal": "cpu",
                "history": {
                    "timestamps": t.astype(np.int64).tolist(),
                    "values": y.astype(np.float32).tolist(),
                },
            }
        ],
    )
    np.testing.assert_allclose(out["forecast"][0], v1_answer[0]["ensemble"], rtol=1e-5)
    no_history = v2_call(
        predictor,
        {
            **inputs,
            "entity": inputs["entity"][:1],
            "signal": inputs["signal"][:1],
            "timestamps": np.zeros((1, 0), np.int64),
            "values": np.zeros((1, 0), np.float32),
        },
    )
    assert no_history["forecast"].shape == (1, H)


def test_v2_padding_one_history_contract(predictor: ForecastPredictor) -> None:
    """NaN values are padding: a row of NaN brings no history (training state), a shorter row is trimmed."""
    t, y = _history()
    padded = np.concatenate([y, np.full(5, np.nan)])
    stamps = np.concatenate([t, t[-1] + 60 * np.arange(1, 6)]).astype(np.int64)
    out = v2_call(
        predictor,
        {
            "entity": np.array([b"prod-east", b"prod-east"], dtype=object),
            "signal": np.array([b"cpu", b"cpu"], dtype=object),
            "timestamps": np.stack([stamps, stamps]),
            "values": np.stack([padded, np.full(padded.size, np.nan)]).astype(np.float32),
        },
    )
    [with_history, training_state] = v1(
        predictor,
        [
            {"entity": "prod-east", "signal": "cpu", "history": {"timestamps": t.tolist(), "values": y.tolist()}},
            {"entity": "prod-east", "signal": "cpu"},
        ],
    )
    assert training_state["source"] == "training-state"
    np.testing.assert_allclose(out["forecast"][0], with_history["ensemble"], rtol=1e-5)
    np.testing.assert_allclose(out["forecast"][1], training_state["ensemble"], rtol=1e-5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"values": "inf"}, "values[0][3]"),
        ({"timestamps": "backwards"}, "timestamps[0][3]"),
        ({"signal": np.array([b"disk"], dtype=object)}, "signal[0]"),
        ({"entity": np.array([b""], dtype=object)}, "entity[0]"),
        ({"values": "short"}, "values"),
        ({"timestamps": "tiny"}, "values[0]"),
    ],
)
def test_v2_malformed(predictor: ForecastPredictor, change: dict[str, Any], field: str) -> None:
    t, y = _history()
    inputs: dict[str, Any] = {
        "entity": np.array([b"prod-east"], dtype=object),
        "signal": np.array([b"cpu"], dtype=object),
        "timestamps": t[None].astype(np.int64),
        "values": y[None].astype(np.float32),
    }
    for key, value in change.items():
        if value == "inf":
            inputs["values"][0, 3] = np.inf
        elif value == "backwards":
            inputs["timestamps"][0, 3] = inputs["timestamps"][0, 1]
        elif value == "short":
            inputs["values"] = inputs["values"][:, :-1]
        elif value == "tiny":
            inputs["timestamps"], inputs["values"] = (
                inputs["timestamps"][:, :5],
                inputs["values"][:, :5],
            )
        else:
            inputs[key] = value
    with pytest.raises(InvalidInputError) as err:
        v2_call(predictor, inputs)
    assert err.value.field == field


def test_save_load_round_trip(predictor: ForecastPredictor, tmp_path: Path) -> None:
    predictor.save(tmp_path)
    again = ForecastPredictor.load(tmp_path, None)  # type: ignore[arg-type]
    request = [
        {"entity": "prod-east", "signal": "cpu", "history": _hist()},
        {"entity": "x", "signal": "io_wait", "history": _hist()},
        {"entity": "prod-east-worker-0", "signal": "io_wait"},
    ]
    assert v1(again, request) == v1(predictor, request)
    assert len(v1(again, smoke(again))) == 2
    (tmp_path / "forecast.json").write_text("{", encoding="utf-8")
    with pytest.raises(ArtifactError):
        ForecastPredictor.load(tmp_path, None)  # type: ignore[arg-type]
