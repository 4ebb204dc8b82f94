"""ForecastTrainer on the tiny profile: manifest, metrics, files, publishing, loud failures."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from metrics_ai.artifacts import DataWindow, ModelStore
from metrics_ai.errors import TrainingError
from metrics_ai.families.forecast import ForecastPredictor
from metrics_ai.settings import Settings, load_settings
from tests.serving.codec_calls import v1
from training.families.base import TrainOutcome
from training.families.forecast import ForecastTrainer
from training.publish import publish

pytestmark = pytest.mark.slow


def _trainer(settings: Settings) -> ForecastTrainer:
    """Fewer LSTM windows and backtest cuts than the defaults, to keep the suite fast."""
    trainer = ForecastTrainer(settings)
    base = trainer.config()
    trainer.config = lambda: base.model_copy(  # type: ignore[method-assign]
        update={"lstm_max_windows": 128, "lstm_pooled_max_windows": 256, "max_cuts": 200}
    )
    return trainer


@pytest.fixture(scope="module")
def small_frame(tiny_frame: pd.DataFrame) -> pd.DataFrame:
    """cpu (one cluster + one standalone node) and io_wait (four nodes) of the tiny profile."""
    return tiny_frame[tiny_frame["signal"].isin(["cpu", "io_wait"])]


@pytest.fixture(scope="module")
def outcome(small_frame: pd.DataFrame) -> TrainOutcome:
    return _trainer(load_settings(lstm_epochs=1, workers=1)).fit(small_frame)


def _history(predictor: ForecastPredictor, entity: str, signal: str) -> dict[str, list[float]]:
    s = predictor.state.series[(entity, signal)]
    return {"timestamps": s.last_t.tolist(), "values": s.last_y.tolist()}


def test_manifest_metrics_and_figures(outcome: TrainOutcome) -> None:
    assert outcome.components == ["prophet", "arima", "lstm"]
    assert {"cpu/prod-east", "cpu/standalone-0", "io_wait/prod-east-worker-0"} <= set(outcome.entities)
    m = outcome.metrics
    assert set(m["lstm"]) == {"series/cpu/prod-east", "series/cpu/standalone-0", "pooled/io_wait"}
    assert all(info["windows_per_s"] > 0 and info["epochs_run"] == 1 for info in m["lstm"].values())
    for series in m["series"].values():
        for name in ("prophet", "arima", "lstm", "ensemble", "naive", "seasonal_naive"):
            assert series[f"mae_{name}"] > 0 and series[f"rmse_{name}"] >= series[f"mae_{name}"]
        assert 0.0 <= series["coverage_80"] <= 1.0 and series["cuts"] > 50
    assert 0.3 < m["coverage_80"] <= 1.0  # recorded, and not degenerate
    assert m["gate"]["mae_ensemble_rel"] == m["mae_ensemble_rel"] > 0
    assert m["weighting"] == "median" and {"ensemble_equal", "ensemble_backtest"} <= set(m["mae_rel"])
    assert outcome.figures and all(isinstance(f, Figure) for f in outcome.figures.values())


def test_save_load_same_prediction(outcome: TrainOutcome, tmp_path: Path) -> None:
    predictor = outcome.predictor
    assert isinstance(predictor, ForecastPredictor)
    request = [
        {
            "entity": "prod-east",
            "signal": "cpu",
            "history": _history(predictor, "prod-east", "cpu"),
        },
        {"entity": "prod-east-worker-1", "signal": "io_wait"},
        {
            "entity": "unseen-node",
            "signal": "io_wait",
            "history": _history(predictor, "prod-east-worker-1", "io_wait"),
        },
    ]
    before = v1(predictor, request)
    predictor.save(tmp_path)
    after = v1(ForecastPredictor.load(tmp_path, None), request)  # type: ignore[arg-type]
    assert after == before
    assert [p["source"] for p in after] == ["request", "training-state", "request"]
    assert after[2]["model"] == "pooled" and after[2]["components"]["lstm"] is not None
    assert after[2]["backtest"]["mae_ensemble"] == outcome.metrics["fallback"]["io_wait"]["mae_ensemble"]
    assert all(v is not None for v in after[0]["components"].values())


def test_publishes_through_the_pipeline(outcome: TrainOutcome, tmp_path: Path, settings: Settings) -> None:
    result = publish(
        ModelStore(tmp_path, "resource-forecast"),
        outcome,
        DataWindow(source="synthetic:tiny"),
        settings,
    )
    assert result.accepted, result.reason
    manifest = ModelStore(tmp_path, "resource-forecast").current()
    assert manifest.components == ["prophet", "arima", "lstm"]
    assert manifest.metrics["gate"]["mae_ensemble_rel"] > 0


def test_missing_tensorflow_is_a_loud_training_error(
    small_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(TrainingError, match="TensorFlow"):
        ForecastTrainer(load_settings()).fit(small_frame)


def test_lstm_left_out_explicitly_trains_without_tensorflow(
    small_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setitem(sys.modules, "keras", None)
    frame = small_frame[small_frame["signal"] == "cpu"]
    out = _trainer(load_settings(forecast_components="prophet,arima", workers=1)).fit(frame)
    assert out.components == ["prophet", "arima"] and "mae_lstm" not in out.metrics["series"]["cpu/prod-east"]
    predictor = out.predictor
    assert isinstance(predictor, ForecastPredictor)
    [pred] = v1(
        predictor,
        [
            {
                "entity": "prod-east",
                "signal": "cpu",
                "history": _history(predictor, "prod-east", "cpu"),
            }
        ],
    )
    assert pred["components"]["lstm"] is None and any("not part of this model" in n for n in pred["notes"])
    np.testing.assert_allclose(
        pred["ensemble"],
        np.median([pred["components"]["prophet"], pred["components"]["arima"]], axis=0),
    )


def test_too_little_data_is_a_training_error(small_frame: pd.DataFrame) -> None:
    start = small_frame["timestamp"].min()
    short = small_frame[small_frame["timestamp"] < start + pd.Timedelta(hours=1)]
    with pytest.raises(TrainingError, match="too short"):
        ForecastTrainer(load_settings(forecast_components="arima")).fit(short)
