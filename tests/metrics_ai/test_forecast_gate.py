"""The per-series component gate: a component trained to be far worse than naive is not served."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from metrics_ai.families.forecast import ForecastPredictor
from metrics_ai.families.forecast.combiner import gate_components, served
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.families.forecast.state import ForecastState
from tests.metrics_ai.test_forecast_predictor import SEQ, _hist, _state
from tests.serving.codec_calls import v1


def test_gate_picks_components_over_k_times_naive_and_never_the_best() -> None:
    assert gate_components({"prophet": 0.9, "arima": 1.0, "lstm": 3.5}, 1.0, 3.0) == {"lstm": 3.5}
    assert gate_components({"prophet": 0.9, "arima": 1.0, "lstm": 2.9}, 1.0, 3.0) == {}
    assert gate_components({"prophet": 5.0, "lstm": 4.0}, 1.0, 3.0) == {"prophet": 5.0}  # lstm, the best, stays
    assert served({"prophet": np.ones(2), "lstm": np.ones(2)}, {"lstm": 4.0})["lstm"] is None


def _gated_predictor() -> ForecastPredictor:
    state = _state()
    state.series[("prod-east", "cpu")].gated = {"lstm": 4.2}
    return ForecastPredictor(ForecastConfig(seq_len=SEQ), state)


def test_gated_component_is_null_with_a_note_and_left_out_of_the_ensemble() -> None:
    request = [{"entity": "prod-east", "signal": "cpu", "history": _hist()}]
    [plain] = v1(ForecastPredictor(ForecastConfig(seq_len=SEQ), _state()), request)
    [out] = v1(_gated_predictor(), request)
    comps = out["components"]
    assert comps["lstm"] is None and plain["components"]["lstm"] is not None
    assert any(n.startswith("lstm: not served for this series") and "4.20x" in n for n in out["notes"])
    np.testing.assert_allclose(comps["prophet"], plain["components"]["prophet"])
    np.testing.assert_allclose(out["ensemble"], np.median([comps["prophet"], comps["arima"]], axis=0))
    assert not np.allclose(out["ensemble"], plain["ensemble"])


def test_gate_survives_save_and_old_states_load_without_it(tmp_path: Path) -> None:
    predictor = _gated_predictor()
    predictor.save(tmp_path)
    state, _ = ForecastState.load(tmp_path)
    assert state.series[("prod-east", "cpu")].gated == {"lstm": 4.2}
    body = json.loads((tmp_path / "forecast.json").read_text())
    for series in body["series"]:
        series.pop("gated")
    (tmp_path / "forecast.json").write_text(json.dumps(body))
    old, _ = ForecastState.load(tmp_path)
    assert all(s.gated == {} for s in old.series.values())
