"""resource-forecast serves every component only at the step it was fitted at (issue 15 item 1).

A history at the fitted step runs every component; a finer one is averaged to it
(interval means, with a note); a coarser or irregular one is a 400 naming
``history.timestamps`` and the step. States are hand-built as in test_forecast_predictor.
"""

from __future__ import annotations

import numpy as np
import pytest

from metrics_ai.errors import InvalidInputError
from metrics_ai.families.forecast import ForecastPredictor
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.resolution import native_step, snap_step, to_step
from tests.metrics_ai.test_forecast_predictor import SEQ, _hist, _history, _state
from tests.serving.codec_calls import v1
from tests.serving.codec_calls import v2 as v2_call


@pytest.fixture
def five_minute() -> ForecastPredictor:
    """A model whose series and pools were fitted at 300 s (3-point horizon)."""
    return ForecastPredictor(ForecastConfig(seq_len=SEQ), _state(step=300.0))


@pytest.mark.parametrize("entity", ["prod-east", "new-cluster"])
def test_history_at_the_fitted_step_runs_every_component(five_minute: ForecastPredictor, entity: str) -> None:
    [out] = v1(five_minute, [{"entity": entity, "signal": "cpu", "history": _hist(step=300.0)}])
    assert out["step_seconds"] == 300.0 and len(out["ensemble"]) == 3
    assert out["timestamps"][0] == "2026-11-16T12:05:00Z"
    ran = {k for k, v in out["components"].items() if v is not None}
    assert ran == ({"prophet", "arima", "lstm"} if entity == "prod-east" else {"arima", "lstm"})
    assert not any("resampled" in n for n in out["notes"])


def test_finer_history_is_averaged_to_the_fitted_step(five_minute: ForecastPredictor) -> None:
    """60 s history to a 300 s model: interval means, then every component as at 300 s."""
    t, y = _history(n=600, step=60.0)
    [out] = v1(
        five_minute,
        [{"entity": "prod-east", "signal": "cpu", "history": {"timestamps": t.tolist(), "values": y.tolist()}}],
    )
    assert out["step_seconds"] == 300.0 and len(out["ensemble"]) == 3
    assert all(out["components"][k] is not None for k in ("prophet", "arima", "lstm"))
    assert any("resampled from a 60 s step to the model's 300 s step" in n for n in out["notes"])
    means = y.reshape(-1, 5).mean(axis=1)  # the five minutes ending at each 300 s point
    explicit = {"timestamps": t[4::5].tolist(), "values": means.tolist()}
    [same] = v1(five_minute, [{"entity": "prod-east", "signal": "cpu", "history": explicit}])
    np.testing.assert_allclose(out["ensemble"], same["ensemble"], rtol=1e-9)
    assert out["timestamps"] == same["timestamps"]


def test_hourly_or_irregular_history_to_a_five_minute_model_is_a_400(five_minute: ForecastPredictor) -> None:
    with pytest.raises(InvalidInputError, match="3600 s step, coarser than the 300 s step") as caught:
        v1(five_minute, [{"entity": "prod-east", "signal": "cpu", "history": _hist(step=3600.0)}])
    assert caught.value.field == "instances[0].history.timestamps"
    t, y = _history(n=600, step=60.0)
    keep = (np.arange(600) < 200) | (np.arange(600) >= 260)  # an hour missing
    holed = {"timestamps": t[keep].tolist(), "values": y[keep].tolist()}
    with pytest.raises(InvalidInputError, match="irregular"):
        v1(five_minute, [{"entity": "prod-east", "signal": "cpu", "history": holed}])


def test_v2_rows_are_averaged_to_the_fitted_step(five_minute: ForecastPredictor) -> None:
    t, y = _history(n=600, step=60.0)
    out = v2_call(
        five_minute,
        {
            "entity": np.array([b"prod-east"], dtype=object),
            "signal": np.array([b"cpu"], dtype=object),
            "timestamps": t[None, :].astype(np.int64),
            "values": y[None, :].astype(np.float32),
        },
    )
    assert out["forecast"].shape == (1, 3)
    assert (np.diff(out["forecast_timestamps"][0]) == 300).all()


def test_native_step_and_interval_means() -> None:
    assert native_step(np.arange(100) * 297.0, floor=60) == 300, "scrape jitter snaps to 300"
    assert native_step(np.arange(100) * 10.0, floor=60) == 60, "finer than STEP: STEP"
    assert (snap_step(61.0), snap_step(240.0)) == (60, 240)
    t = 1e9 + 60.0 * np.arange(300)
    got = to_step(t, np.arange(300.0), 300.0)
    assert got is not None
    stamps, means = got
    assert stamps[-1] == t[-1] and (np.diff(stamps) == 300).all() and means.size == 60
    np.testing.assert_allclose(means[-1], np.mean(np.arange(295.0, 300.0)))  # the five minutes ending last
    assert to_step(1e9 + 3600.0 * np.arange(50), np.ones(50), 300.0) is None
