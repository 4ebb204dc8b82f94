"""The forecast LSTM's forward pass in NumPy, from weights exported out of Keras.

Architecture (original system): ``LSTM(50, return_sequences=True) -> LSTM(50) ->
Dense(horizon)`` on MinMax-scaled inputs of ``seq_len`` points. Keras stores each
LSTM as ``kernel [in, 4u]``, ``recurrent_kernel [u, 4u]``, ``bias [4u]`` with the
gates in the order input, forget, cell, output, ``sigmoid`` as the recurrent
activation and ``tanh`` as the activation; this module evaluates exactly that
(parity with Keras to 1e-5: tests/training/test_forecast_lstm.py). Keras itself is
imported only by the training job (training/families/forecast/lstm.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from threadpoolctl import ThreadpoolController


def _prepare(kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray, dtype: type) -> tuple[np.ndarray, ...]:
    """Reorder Keras' gates (i, f, c, o) to (i, f, o, c) and halve the sigmoid gates' columns.

    ``sigmoid(x) = 0.5 * tanh(x / 2) + 0.5``, so with the sigmoid gates' weights halved
    one ``tanh`` over all four gates serves every activation of a step.
    """
    u = recurrent.shape[0]
    order = np.concatenate([np.arange(0, 2 * u), np.arange(3 * u, 4 * u), np.arange(2 * u, 3 * u)])
    factor = np.concatenate([np.full(3 * u, 0.5), np.ones(u)])
    return tuple(np.ascontiguousarray(a[..., order] * factor, dtype=dtype) for a in (kernel, recurrent, bias))


@dataclass(frozen=True)
class LstmLayer:
    """One Keras LSTM layer's weights (as Keras stores them)."""

    kernel: np.ndarray
    recurrent: np.ndarray
    bias: np.ndarray

    @property
    def units(self) -> int:
        """Hidden size."""
        return int(self.recurrent.shape[0])

    @cached_property
    def _prepared(self) -> tuple[np.ndarray, ...]:
        return _prepare(self.kernel, self.recurrent, self.bias, np.float32)

    def run(self, x: np.ndarray, sequences: bool) -> np.ndarray:
        """``x [N, T, in]`` float32 -> ``[N, T, u]`` (sequences) or ``[N, u]`` (last state)."""
        n, steps, _ = x.shape
        u = self.units
        kernel, recurrent, bias = self._prepared
        inputs = x @ kernel + bias  # [N, T, 4u]: the input projection of every step at once
        h = np.zeros((n, u), dtype=x.dtype)
        c = np.zeros((n, u), dtype=x.dtype)
        out = np.empty((n, steps, u), dtype=x.dtype) if sequences else None
        for t in range(steps):
            z = np.tanh(inputs[:, t] + h @ recurrent)
            gates = 0.5 * z[:, : 3 * u] + 0.5  # input, forget, output
            c = gates[:, u : 2 * u] * c + gates[:, :u] * z[:, 3 * u :]
            h = gates[:, 2 * u :] * np.tanh(c)
            if out is not None:
                out[:, t] = h
        return out if out is not None else h


@dataclass(frozen=True)
class NumpyLSTM:
    """Stacked LSTM layers and a Dense head: scaled window -> scaled horizon."""

    layers: tuple[LstmLayer, ...]
    dense_w: np.ndarray
    dense_b: np.ndarray

    @property
    def horizon(self) -> int:
        """Outputs per window."""
        return int(self.dense_b.shape[0])

    @cached_property
    def _blas(self) -> ThreadpoolController:
        return ThreadpoolController()

    def __getstate__(self) -> dict[str, object]:
        """Pickle the weights, not the BLAS controller (process-local library handles)."""
        return {k: v for k, v in self.__dict__.items() if k != "_blas"}

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """``[N, T]`` (or ``[N, T, 1]``) scaled windows -> ``[N, horizon]``.

        Computes in float32 (as Keras does) with BLAS on one thread: the matrices are
        small, and BLAS threads spinning against other work on a busy 2-core machine
        cost far more than they give.
        """
        x = np.asarray(windows, dtype=np.float32)
        if x.ndim == 2:
            x = x[:, :, None]
        with self._blas.limit(limits=1, user_api="blas"):
            for k, layer in enumerate(self.layers):
                x = layer.run(x, sequences=k < len(self.layers) - 1)
            out = x @ self.dense_w.astype(np.float32) + self.dense_b.astype(np.float32)
        return out.astype(np.float64)

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Flat name -> array mapping for ``np.savez`` (no pickle)."""
        out = {f"{prefix}dense_w": self.dense_w, f"{prefix}dense_b": self.dense_b}
        for k, layer in enumerate(self.layers):
            out[f"{prefix}l{k}_kernel"] = layer.kernel
            out[f"{prefix}l{k}_recurrent"] = layer.recurrent
            out[f"{prefix}l{k}_bias"] = layer.bias
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray] | np.lib.npyio.NpzFile, prefix: str = "") -> NumpyLSTM:
        """Inverse of :meth:`to_arrays`."""
        layers = []
        k = 0
        while f"{prefix}l{k}_kernel" in arrays:
            layers.append(
                LstmLayer(
                    np.asarray(arrays[f"{prefix}l{k}_kernel"], dtype=np.float64),
                    np.asarray(arrays[f"{prefix}l{k}_recurrent"], dtype=np.float64),
                    np.asarray(arrays[f"{prefix}l{k}_bias"], dtype=np.float64),
                )
            )
            k += 1
        if not layers:
            raise ValueError(f"no LSTM layers under prefix {prefix!r}")
        return cls(
            tuple(layers),
            np.asarray(arrays[f"{prefix}dense_w"], dtype=np.float64),
            np.asarray(arrays[f"{prefix}dense_b"], dtype=np.float64),
        )
