"""resource-forecast trains at the data's native step and serves only at it (issue 15 item 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics_ai.errors import InvalidInputError
from metrics_ai.families.forecast import ForecastPredictor
from metrics_ai.settings import load_settings
from tests.conftest import FIXED_END
from tests.serving.codec_calls import v1
from training.families.base import TrainOutcome
from training.families.forecast import ForecastTrainer
from training.families.forecast.series import forecast_series
from training.sources.profiles import get_profile
from training.sources.synthetic import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def five_minute_frame() -> pd.DataFrame:
    """Three days of the tiny profile's cpu at 300 s (one cluster, one standalone node)."""
    frame = generate(get_profile("tiny"), 3, step=300, anomaly_rate=0.0, seed=5, end=FIXED_END)
    return frame[frame["signal"] == "cpu"]


def test_series_keep_their_native_step_and_are_never_interpolated(five_minute_frame: pd.DataFrame) -> None:
    raw_points = five_minute_frame.groupby("node", observed=True).size().max()
    series = forecast_series(five_minute_frame, step=60)
    assert {s.step for s in series} == {300}
    assert all(s.y.size == raw_points and (np.diff(s.t) == 300).all() for s in series), "no 60 s points invented"
    ten_second = generate(get_profile("tiny"), 0.5, step=10, anomaly_rate=0.0, seed=5, end=FIXED_END)
    fine = forecast_series(ten_second[ten_second["signal"] == "cpu"], step=60)
    assert {s.step for s in fine} == {60}, "finer than STEP: averaged to STEP"


@pytest.fixture(scope="module")
def outcome(five_minute_frame: pd.DataFrame) -> TrainOutcome:
    settings = load_settings(step=60, lstm_epochs=1, workers=1, lstm_seq_len=24)
    trainer = ForecastTrainer(settings)
    base = trainer.config()
    trainer.config = lambda: base.model_copy(update={"lstm_max_windows": 64, "max_cuts": 100})  # type: ignore[method-assign]
    return trainer.fit(five_minute_frame)


def _request(predictor: ForecastPredictor, step: float, n: int) -> list[dict]:
    series = predictor.state.series[("prod-east", "cpu")]
    end = float(series.last_t[-1])
    t = end - step * np.arange(n)[::-1]
    y = np.interp(t, series.last_t, series.last_y)
    return [{"entity": "prod-east", "signal": "cpu", "history": {"timestamps": t.tolist(), "values": y.tolist()}}]


def test_trained_on_300s_data_serves_at_300s(outcome: TrainOutcome) -> None:
    predictor = outcome.predictor
    assert isinstance(predictor, ForecastPredictor)
    assert {s.step for s in predictor.state.series.values()} == {300.0}
    assert {p.step for p in predictor.state.pools.values()} == {300.0}
    assert outcome.metrics["step_seconds"] == {"cpu": [300]}, "recorded in the manifest's metrics"
    [same] = v1(predictor, _request(predictor, 300.0, 60))
    assert same["step_seconds"] == 300.0 and len(same["ensemble"]) == 3  # HORIZON_MIN 15 at 300 s
    assert all(same["components"][k] is not None for k in ("prophet", "arima", "lstm")), same["notes"]
    [finer] = v1(predictor, _request(predictor, 60.0, 300))
    assert finer["step_seconds"] == 300.0 and len(finer["ensemble"]) == 3
    assert all(finer["components"][k] is not None for k in ("prophet", "arima", "lstm")), finer["notes"]
    assert any("resampled from a 60 s step" in n for n in finer["notes"])
    with pytest.raises(InvalidInputError) as caught:
        v1(predictor, _request(predictor, 3600.0, 60))
    assert caught.value.field == "instances[0].history.timestamps" and "300 s" in str(caught.value)
