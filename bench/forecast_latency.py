"""resource-forecast request latency at the predictor (no HTTP): batch 1 and batch 100.

Each instance brings one day of 1-minute history (1,440 points), as RFC 3339 strings
(what a JSON client sends) or unix seconds. Budget: p50 under 20 ms per
entity; a batch of 100 costs at most 100 single requests.

    .venv/bin/python bench/forecast_latency.py [--model-dir MODELS] [--repeats 200]

Without ``--model-dir`` a small model is trained first (tiny profile, 1 LSTM epoch:
the shapes that matter for latency, seq_len 60 and LSTM 50/50, are the real ones).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.codec_calls import v1

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics_ai.artifacts import ModelStore  # noqa: E402
from metrics_ai.families.forecast.models import rfc3339  # noqa: E402
from metrics_ai.families.forecast.predictor import ForecastPredictor  # noqa: E402


def trained_predictor() -> ForecastPredictor:
    """Train a small real model (cpu + io_wait of the tiny profile)."""
    from metrics_ai.settings import load_settings
    from training.families.forecast import ForecastTrainer
    from training.sources.profiles import get_profile
    from training.sources.synthetic import generate

    profile = get_profile("tiny")
    frame = generate(profile, 3, step=60, end=pd.Timestamp("2026-11-16 12:00", tz="UTC"))
    frame = frame[frame["signal"].isin(["cpu", "io_wait"])]
    predictor = ForecastTrainer(load_settings(lstm_epochs=1)).fit(frame).predictor
    assert isinstance(predictor, ForecastPredictor)
    return predictor


def loaded_predictor(model_dir: Path) -> ForecastPredictor:
    """The current published version under ``model_dir``."""
    store = ModelStore(model_dir, "resource-forecast")
    manifest, folder = store.verify(store.current_version())
    return ForecastPredictor.load(folder, manifest)


def instances(predictor: ForecastPredictor, n: int, strings: bool) -> list[dict[str, Any]]:
    """``n`` instances cycling over known entities and one unseen, each with 1,440 points."""
    rng = np.random.default_rng(0)
    keys = list(predictor.state.series)
    out = []
    end = 1_794_830_400.0
    t = end - 60.0 * np.arange(1440)[::-1]
    stamps: list[Any] = [rfc3339(x) for x in t] if strings else t.tolist()
    for i in range(n):
        entity, signal = keys[i % len(keys)] if i % 5 else (f"unseen-{i}", keys[0][1])
        level = float(np.mean(predictor.state.series[keys[i % len(keys)]].last_y))
        y = level * (1 + 0.05 * np.sin(2 * np.pi * t / 86400) + 0.01 * rng.normal(size=t.size))
        out.append({"entity": entity, "signal": signal, "history": {"timestamps": stamps, "values": y.tolist()}})
    return out


def measure(predictor: ForecastPredictor, batch: list[dict[str, Any]], repeats: int) -> list[float]:
    """Seconds per V1 call (codec and predictor) on ``batch``."""
    v1(predictor, batch)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        v1(predictor, batch)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    predictor = loaded_predictor(args.model_dir) if args.model_dir else trained_predictor()
    print(f"{'timestamps':10s} {'batch':>5s} {'p50 ms':>9s} {'p99 ms':>9s} {'p50 ms/entity':>14s}")
    for strings in (True, False):
        for size in (1, 100):
            reps = args.repeats if size == 1 else max(5, args.repeats // 20)
            times = measure(predictor, instances(predictor, size, strings), reps)
            p50 = statistics.median(times) * 1000
            p99 = float(np.quantile(times, 0.99)) * 1000
            kind = "rfc3339" if strings else "unix"
            print(f"{kind:10s} {size:5d} {p50:9.2f} {p99:9.2f} {p50 / size:14.3f}")


if __name__ == "__main__":
    main()
