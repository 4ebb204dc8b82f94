"""Keras LSTM training for resource-forecast and export to :class:`NumpyLSTM`.

Architecture of the original system: ``LSTM(50, return_sequences=True) -> LSTM(50)
-> Dense(horizon)`` on MinMax-scaled windows of ``seq_len`` points (each window by its own range by
default, see :mod:`metrics_ai.families.forecast.components`), Adam, MSE,
EarlyStopping(patience 3, best weights restored) on a chronological validation
split. Two shapes:

- per series (cpu/memory per cluster: few series): one network per series;
- pooled (io_wait/net_rx/net_tx per node: many series): one network per signal,
  trained on windows of every entity (per-window scaling makes them comparable;
  with series scaling each entity uses its own MinMax range).

Windows are strided so that a network sees at most ``max_windows`` of them per
epoch (neighbouring windows overlap by ``seq_len - stride`` points and add little).
Keras picks a GPU when one is visible. TensorFlow is imported here only, lazily:
a missing TensorFlow is a :class:`TrainingError`, never a silently dropped component.
"""

from __future__ import annotations

import importlib
import math
import os
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from metrics_ai.errors import TrainingError
from metrics_ai.families.forecast.numeric import CLIP, window_ranges
from metrics_ai.lstm_numpy import LstmLayer, NumpyLSTM
from training.logs import filtered_native_stderr


def load_keras() -> ModuleType:
    """Import Keras (TensorFlow backend) quietly, or fail loudly.

    Raises:
        TrainingError: TensorFlow/Keras cannot be imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        # device discovery (cuInit) runs on first use: do it inside the filter too
        with filtered_native_stderr():
            tf = importlib.import_module("tensorflow")
            keras = importlib.import_module("keras")
            tf.config.list_physical_devices()
    except Exception as exc:  # ImportError, or a broken install raising anything at import
        raise TrainingError(
            f"resource-forecast: the lstm component needs TensorFlow/Keras, "
            "which cannot be imported "
            f"({type(exc).__name__}: {exc}); install the 'train' extra or leave lstm out with "
            f"FORECAST_COMPONENTS=prophet,arima"
        ) from exc
    return keras


@dataclass
class WindowSet:
    """Training and validation windows (inputs ``[N, seq_len]``, targets ``[N, H]``)."""

    x: np.ndarray
    y: np.ndarray
    xv: np.ndarray
    yv: np.ndarray


def window_ends(start: int, stop: int, stride: int) -> np.ndarray:
    """Last input index of each window, ``start <= c < stop`` every ``stride``, newest kept."""
    if stop <= start:
        return np.zeros(0, dtype=int)
    return np.arange(stop - 1, start - 1, -max(1, stride))[::-1]


def windows(
    z: np.ndarray, ends: np.ndarray, seq_len: int, horizon: int, per_window: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ending at each index and the ``horizon`` values after it.

    With ``per_window`` both are MinMax-scaled by the input window's own range
    (:func:`metrics_ai.families.forecast.numeric.window_ranges`, as served) and clipped.
    """
    x = z[ends[:, None] + np.arange(-seq_len + 1, 1)[None, :]]
    y = z[ends[:, None] + np.arange(1, horizon + 1)[None, :]]
    if per_window and len(x):
        lo, span = window_ranges(x)
        x, y = np.clip((x - lo) / span, *CLIP), np.clip((y - lo) / span, *CLIP)
    return x.astype(np.float32), y.astype(np.float32)


def build_windows(
    scaled: list[np.ndarray],
    cal_starts: list[int],
    seq_len: int,
    horizon: int,
    max_windows: int,
    per_window: bool = False,
) -> WindowSet:
    """Windows over one or many training series (already scaled, or ``per_window``).

    Training windows have all targets before the series' calibration start; validation
    windows end inside the calibration part (chronological split, no shuffling across it).
    """
    train_counts = [max(0, c - horizon - seq_len + 1) for c in cal_starts]
    val_counts = [max(0, len(z) - horizon - c) for z, c in zip(scaled, cal_starts, strict=True)]
    stride = max(1, math.ceil(sum(train_counts) / max_windows))
    vstride = max(1, math.ceil(sum(val_counts) / max(16, max_windows // 4)))
    parts: list[tuple[np.ndarray, ...]] = []
    for z, cal in zip(scaled, cal_starts, strict=True):
        tr = window_ends(seq_len - 1, cal - horizon, stride)
        va = window_ends(max(cal, seq_len - 1), len(z) - horizon, vstride)
        parts.append(
            (
                *windows(z, tr, seq_len, horizon, per_window),
                *windows(z, va, seq_len, horizon, per_window),
            )
        )
    x, y, xv, yv = (np.concatenate([p[k] for p in parts]) for k in range(4))
    if len(x) == 0 or len(xv) == 0:
        raise TrainingError(f"lstm: series too short for seq_len {seq_len} + horizon {horizon} windows")
    return WindowSet(x, y, xv, yv)


def export_keras(model: Any) -> NumpyLSTM:
    """A Sequential of LSTM layers and one Dense head -> :class:`NumpyLSTM`."""
    layers: list[LstmLayer] = []
    dense: list[np.ndarray] | None = None
    for layer in model.layers:
        kind = type(layer).__name__
        weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
        if kind == "LSTM":
            layers.append(LstmLayer(*weights))
        elif kind == "Dense":
            dense = weights
        elif weights:
            raise TrainingError(f"lstm export: unsupported layer {kind}")
    if not layers or dense is None:
        raise TrainingError("lstm export: expected LSTM layers and a Dense head")
    return NumpyLSTM(tuple(layers), dense[0], dense[1])


def keras_weights(net: NumpyLSTM) -> list[np.ndarray]:
    """The inverse of :func:`export_keras`: a saved network's weights in Keras' order (float32)."""
    arrays = [a for layer in net.layers for a in (layer.kernel, layer.recurrent, layer.bias)]
    return [np.asarray(a, dtype=np.float32) for a in (*arrays, net.dense_w, net.dense_b)]


def build_model(keras: ModuleType, seq_len: int, horizon: int, units: tuple[int, ...]) -> Any:
    """The original architecture."""
    layers = [keras.Input(shape=(seq_len, 1))]
    for k, u in enumerate(units):
        layers.append(keras.layers.LSTM(u, return_sequences=k < len(units) - 1))
    layers.append(keras.layers.Dense(horizon))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="mse")
    return model


class LstmTrainer:
    """Trains any number of networks of one architecture, tracing Keras' functions once.

    Between fits the weights go back to the same initial values and Adam's state to
    zero, so each network is exactly what a fresh model with ``seed`` would give,
    in any order, without paying Keras' ~2 s of graph tracing per network.
    """

    def __init__(self, seq_len: int, horizon: int, units: tuple[int, ...], seed: int) -> None:
        self.keras = load_keras()
        self.seed = seed
        self.keras.utils.set_random_seed(seed)
        self.model = build_model(self.keras, seq_len, horizon, units)
        self.model.optimizer.build(self.model.trainable_variables)
        self._weights = self.model.get_weights()
        self._optimizer = [v.numpy() for v in self.model.optimizer.variables]

    def fit(
        self, data: WindowSet, *, epochs: int, patience: int, batch: int, init: NumpyLSTM | None = None
    ) -> tuple[NumpyLSTM, dict[str, Any]]:
        """Fit one network with early stopping; the NumPy export and training figures.

        ``init``: start from these weights (fine-tuning a saved network) instead of the seed's.
        """
        keras, model = self.keras, self.model
        model.set_weights(self._weights if init is None else keras_weights(init))
        for variable, value in zip(model.optimizer.variables, self._optimizer, strict=True):
            variable.assign(value)
        keras.utils.set_random_seed(self.seed)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        start = time.perf_counter()
        history = model.fit(
            data.x[..., None],
            data.y,
            validation_data=(data.xv[..., None], data.yv),
            epochs=epochs,
            batch_size=batch,
            shuffle=True,
            verbose=0,
            callbacks=[stop],
        )
        seconds = time.perf_counter() - start
        ran = len(history.history["loss"])
        info = {
            "windows": int(len(data.x)),
            "val_windows": int(len(data.xv)),
            "epochs_run": ran,
            "seconds": round(seconds, 2),
            # training windows per second (the validation pass is inside the time)
            "windows_per_s": round(ran * len(data.x) / max(seconds, 1e-9), 1),
            "val_loss": float(min(history.history["val_loss"])),
        }
        return export_keras(model), info


def train_lstm(
    data: WindowSet,
    *,
    units: tuple[int, ...],
    epochs: int,
    patience: int,
    batch: int,
    seed: int,
) -> tuple[NumpyLSTM, dict[str, Any]]:
    """Fit one network (a one-off :class:`LstmTrainer`)."""
    trainer = LstmTrainer(data.x.shape[1], data.y.shape[1], units, seed)
    return trainer.fit(data, epochs=epochs, patience=patience, batch=batch)
