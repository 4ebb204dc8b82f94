"""disk-eta and io-crisis request latency in the predictor's own code (no HTTP).

One known disk (Prophet fitted on a week of 5-minute usage, exported, saved and
loaded as the predictor would) asked with its 7 days of 5-minute history
(2,016 points, JSON-like lists as a V1 body carries them): parsing, robust trend,
level correction and the 30-day Prophet crossing search. The same for the saved
state without history, for V2 with one row, and for one io-crisis series. Budget
(disk-eta): p50 under 50 ms.

Run: ``.venv/bin/python -m bench.disk_eta_latency [--repeats 300]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.codec_calls import v1
from bench.codec_calls import v2 as v2_call
from metrics_ai.crossing import recent_window
from metrics_ai.families.disk_eta import DiskEtaConfig, DiskEtaPredictor, DiskState
from metrics_ai.families.io_crisis import IoCrisisConfig, IoCrisisPredictor, SeriesState
from training.families.disk_eta import fit_disk_prophet
from training.families.io_crisis import fit_series_prophet
from training.sources.disks import disk_case


def timed(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Median and p99 milliseconds of ``fn()`` after a few warm-up calls."""
    for _ in range(5):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": statistics.median(samples), "p99_ms": float(np.percentile(samples, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()

    case = disk_case("sawtooth", days=7, step=300, eta_days=5.0, seed=1)
    cfg = DiskEtaConfig()
    t, v = case.timestamps, case.values
    state = DiskState(fit_disk_prophet(t, v, cfg), recent_window(t, v, cfg.recent_hours, cfg.recent_step))
    with tempfile.TemporaryDirectory() as tmp:
        DiskEtaPredictor(cfg, {("", "node-a", "/var/log"): state}).save(Path(tmp))
        disk = DiskEtaPredictor.load(Path(tmp), None)  # type: ignore[arg-type]
    body = [{"node": "node-a", "mountpoint": "/var/log", "history": case.history()}]
    v2 = {
        "node": np.array([b"node-a"], dtype=object),
        "mountpoint": np.array([b"/var/log"], dtype=object),
        "timestamps": t.astype(np.int64)[None, :],
        "values": v.astype(np.float32)[None, :],
    }
    io_cfg = IoCrisisConfig()
    io_v = 0.1 + 0.02 * np.sin(2 * np.pi * t / 86400) + 0.01 * (t - t[0]) / 86400
    io_state = SeriesState(fit_series_prophet(t, io_v, io_cfg), recent_window(t, io_v, 72, 300))
    io = IoCrisisPredictor(io_cfg, {("", "node-a", "io_wait"): io_state})
    io_body = [
        {
            "node": "node-a",
            "signal": "io_wait",
            "history": {"timestamps": t.tolist(), "values": io_v.tolist()},
        }
    ]

    answer = v1(disk, body)[0]["eta_days"]
    print(f"history: {len(t)} points at 5 min (7 days); eta_days: {answer}")
    rows = {
        "disk-eta V1, 7 d history": timed(lambda: v1(disk, body), args.repeats),
        "disk-eta V1, saved state": timed(
            lambda: v1(disk, [{"node": "node-a", "mountpoint": "/var/log"}]), args.repeats
        ),
        "disk-eta V2, 1 x 2016": timed(lambda: v2_call(disk, v2), args.repeats),
        "io-crisis V1, 7 d history": timed(lambda: v1(io, io_body), args.repeats),
    }
    for name, r in rows.items():
        print(f"{name:28s} p50 {r['p50_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms")


if __name__ == "__main__":
    main()
