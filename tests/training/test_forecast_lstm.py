"""The NumPy LSTM reproduces Keras' forward pass; windows are chronological and scaled as served."""

from __future__ import annotations

import numpy as np
import pytest

from metrics_ai.families.forecast.components import lstm_forecast
from metrics_ai.families.forecast.numeric import window_ranges
from metrics_ai.lstm_numpy import NumpyLSTM
from training.families.forecast.lstm import (
    WindowSet,
    build_model,
    build_windows,
    export_keras,
    load_keras,
    train_lstm,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keras():  # type: ignore[no-untyped-def]
    return load_keras()


def test_numpy_forward_matches_keras(keras) -> None:  # type: ignore[no-untyped-def]
    keras.utils.set_random_seed(3)
    model = build_model(keras, seq_len=60, horizon=15, units=(50, 50))
    # Keras initialises biases to zero (forget gate to one): perturb every weight so all matter.
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0, 0.2, w.shape).astype(np.float32) for w in model.get_weights()])
    x = rng.uniform(-0.5, 1.5, size=(32, 60)).astype(np.float32)
    expected = model.predict(x[..., None], verbose=0)
    net = export_keras(model)
    np.testing.assert_allclose(net.predict(x), expected, atol=1e-5)
    again = NumpyLSTM.from_arrays(net.to_arrays(prefix="m0__"), prefix="m0__")
    np.testing.assert_allclose(again.predict(x), expected, atol=1e-5)


def test_trained_export_matches_keras_and_early_stopping_runs(keras) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    z = np.sin(np.arange(900) / 20) + rng.normal(0, 0.05, 900)
    data = build_windows([z], [700], seq_len=20, horizon=5, max_windows=256, per_window=True)
    net, info = train_lstm(data, units=(8, 8), epochs=2, patience=3, batch=64, seed=0)
    assert info["epochs_run"] <= 2 and info["windows"] == len(data.x) and info["windows_per_s"] > 0
    assert net.horizon == 5


def test_windows_split_chronologically_and_stride_to_the_cap() -> None:
    z = np.arange(1000, dtype=float)
    data = build_windows([z], [800], seq_len=10, horizon=3, max_windows=100)
    assert isinstance(data, WindowSet) and len(data.x) <= 100
    assert data.y[:, -1].max() < 800  # training targets stay before the calibration start
    assert data.xv[:, -1].min() >= 800 - 1 and data.yv.max() < 1000
    np.testing.assert_array_equal(data.y[:, 0], data.x[:, -1] + 1)


def test_per_window_scaling_is_what_serving_applies() -> None:
    z = 100 + 10 * np.sin(np.arange(300) / 7)
    data = build_windows([z], [250], seq_len=30, horizon=4, max_windows=500, per_window=True)
    assert data.x.min() >= 0 and data.x.max() <= 1 + 1e-6
    raw = np.stack([z[c - 29 : c + 1] for c in range(29, 40)])
    lo, span = window_ranges(raw)
    np.testing.assert_allclose(data.x[: len(raw)], (raw - lo) / span, atol=1e-5)


def test_constant_windows_do_not_divide_by_zero() -> None:
    class Echo(NumpyLSTM):
        def predict(self, windows: np.ndarray) -> np.ndarray:
            return np.repeat(windows[:, -1:], 3, axis=1)

    net = Echo((), np.zeros((1, 3)), np.zeros(3))
    out = lstm_forecast(net, np.full((2, 10), 0.25))
    np.testing.assert_allclose(out, 0.25)
