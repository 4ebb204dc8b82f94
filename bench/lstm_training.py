"""Keras LSTM training throughput of resource-forecast's two shapes, on this machine.

- per series (cpu/memory of one cluster): ``lstm_max_windows`` strided windows, ``lstm_batch``;
- pooled (one network per node signal, here io_wait of every demo node): ``lstm_pooled_batch``
  (the defaults, 32 and 256, are printed with the figures).

Prints training windows/s (epochs x windows / fit seconds, validation included in the
time) and seconds per network. Keras uses a GPU when one is visible.

    .venv/bin/python bench/lstm_training.py [--epochs 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics_ai.families.forecast.config import ForecastConfig  # noqa: E402
from training.families.forecast.lstm import build_windows, load_keras, train_lstm  # noqa: E402
from training.families.forecast.series import forecast_series  # noqa: E402
from training.sources.profiles import get_profile  # noqa: E402
from training.sources.synthetic import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    keras = load_keras()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    print(f"keras {keras.__version__}, devices: {'GPU ' + str(len(gpus)) if gpus else 'CPU only'}")
    cfg = ForecastConfig()
    frame = generate(get_profile("demo"), 7, step=60, end=pd.Timestamp("2026-11-16 12:00", tz="UTC"))
    series = forecast_series(frame, 60, ("cpu", "io_wait"))
    cpu = [s for s in series if s.signal == "cpu"][:1]
    io = [s for s in series if s.signal == "io_wait"]
    shapes = [
        ("per-series (cpu, 1 cluster)", cpu, cfg.lstm_max_windows, cfg.lstm_batch),
        (f"pooled (io_wait, {len(io)} nodes)", io, cfg.lstm_pooled_max_windows, cfg.lstm_pooled_batch),
        (f"pooled x4 windows ({len(io)} nodes)", io, 4 * cfg.lstm_pooled_max_windows, cfg.lstm_pooled_batch),
    ]
    print(f"{'shape':34s} {'windows':>8s} {'batch':>6s} {'epochs':>7s} {'seconds':>8s} {'windows/s':>10s}")
    for name, members, cap, batch in shapes:
        n_train = [int(s.y.size * 0.8) for s in members]
        cal = [n - int(n * cfg.calibration_fraction) for n in n_train]
        data = build_windows([s.y[:n] for s, n in zip(members, n_train, strict=True)], cal, cfg.seq_len, 15, cap, True)
        start = time.perf_counter()
        _, info = train_lstm(data, units=cfg.lstm_units, epochs=args.epochs, patience=args.epochs, batch=batch, seed=42)
        seconds = time.perf_counter() - start
        print(
            f"{name:34s} {info['windows']:8d} {batch:6d} {info['epochs_run']:7d} {seconds:8.1f} "
            f"{info['windows_per_s']:10.0f}"
        )


if __name__ == "__main__":
    main()
