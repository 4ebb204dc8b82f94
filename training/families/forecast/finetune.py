"""Fine-tuning a saved resource-forecast LSTM: a plain loop of Keras steps from its NumPy weights.

A fine-tune is one or two epochs of a few hundred windows: Keras' ``fit`` spends more on
its own set-up (datasets, callbacks, a validation pass per epoch; ~1.5 s per call on two
cores) than on those few steps (~40 ms per batch of 32), so the update steps the compiled
model batch by batch instead. Full batches only, reshuffled every epoch: a smaller last
batch would trace Keras' step again. The saved network is kept when the fine-tuned one
does worse on the validation windows (what the full run's EarlyStopping with restored
best weights would do).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from metrics_ai.lstm_numpy import NumpyLSTM
from training.families.forecast.lstm import LstmTrainer, WindowSet, export_keras, keras_weights


def val_loss(net: NumpyLSTM, data: WindowSet) -> float:
    """Mean squared error on the validation windows (Keras' loss), evaluated in NumPy."""
    return float(np.mean((net.predict(data.xv) - data.yv) ** 2)) if len(data.xv) else float("nan")


class FineTuner(LstmTrainer):
    """:class:`LstmTrainer` whose ``fit`` from ``init`` is a lean fine-tune (from scratch: unchanged)."""

    def fit(
        self, data: WindowSet, *, epochs: int, patience: int, batch: int, init: NumpyLSTM | None = None
    ) -> tuple[NumpyLSTM, dict[str, Any]]:
        """Fine-tune ``init`` for ``epochs`` over ``data``'s training windows (see the module docstring)."""
        if init is None:
            return super().fit(data, epochs=epochs, patience=patience, batch=batch)
        model = self.model
        model.set_weights(keras_weights(init))
        for variable, value in zip(model.optimizer.variables, self._optimizer, strict=True):
            variable.assign(value)
        self.keras.utils.set_random_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        size = min(batch, len(data.x))
        start, steps = time.perf_counter(), 0
        for _ in range(epochs):
            order = rng.permutation(len(data.x))
            for first in range(0, len(order) - size + 1, size):
                rows = order[first : first + size]
                model.train_on_batch(data.x[rows][..., None], data.y[rows])
                steps += 1
        tuned = export_keras(model)
        before, after = val_loss(init, data), val_loss(tuned, data)
        kept = bool(after > before)
        seconds = time.perf_counter() - start
        info = {
            "windows": int(len(data.x)),
            "val_windows": int(len(data.xv)),
            "epochs_run": epochs,
            "steps": steps,
            "seconds": round(seconds, 2),
            "windows_per_s": round(steps * size / max(seconds, 1e-9), 1),
            "val_loss": min(before, after),
            "val_loss_saved": before,
            "fine_tuned": not kept,
        }
        return (init if kept else tuned), info
