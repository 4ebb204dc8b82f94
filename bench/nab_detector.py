"""resource-forecast's deviation check as a streaming NAB detector.

Per file: the family is trained on the probationary period only (the first 15 %, at
most 750 points; no labels), exactly as the training job trains it (its own 80/20
split and calibration inside that part), then every later point is sent, in order,
as a V1 request with the history that precedes it (the last ``seq_len + 4`` points),
and the answer's ``deviation`` is the detection for that point: the latest value
against the one-step forecast made just before it. Nothing is refitted on the way.

Variants scored: ``is_anomaly`` (WARNING or CRITICAL, the served default), CRITICAL
only, CRITICAL with repeats silenced for 1, 4 (Alertmanager's default repeat_interval)
and 24 hours (what an alert layer does with a firing alert; NAB counts every alarming
point, so picking the best of these on these labels is tuning, as the threshold
below is), and the deviation ``score`` above the threshold that scores best on these very
files (NAB's own practice for its scoreboard: it tunes each detector's threshold on
the corpus, so this one uses the labels and is optimistic). Beside them: a random
detector with the same alarm rate as the default (median of 5 seeds), the null and
the perfect detector.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.codec_calls import v1
from bench.nab_score import NAB_DATA, FileScore, normalised, probation_length, score_file, window_indices
from metrics_ai.errors import MetricsAIError
from metrics_ai.families.forecast import ForecastPredictor
from metrics_ai.series import validate_frame
from metrics_ai.settings import load_settings
from training.families.forecast import ForecastTrainer

NAB = NAB_DATA
#: the signal each file is trained as (it picks per-signal settings and the physical range forecasts are
#: bounded by; every file trains its own model): CPU percentages are divided by 100 into the cpu signal's
#: ratio; the temperature, like bytes and counts, is a non-negative quantity
SIGNALS = {
    "cpu": "cpu",
    "temperature": "net_rx",
    "grok_asg": "cpu",
    "network_in": "net_rx",
    "request_count": "net_rx",
    "disk_write": "net_tx",
}
DIVISORS = {"cpu": 100.0}
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
BATCH = 500
#: repeat silences of an alert layer (hours at 5-minute points) and why each length
SILENCES = ((1.0, "one hour"), (4.0, "Alertmanager's default repeat_interval"), (24.0, "one day"))


@dataclass
class FileRun:
    """One file's detections (one entry per point; the probationary period stays False)."""

    name: str
    windows: list[tuple[int, int]]
    warning: np.ndarray
    critical: np.ndarray
    score: np.ndarray
    probation: int
    seconds: float
    note: str = ""
    scores: dict[str, FileScore] = field(default_factory=dict)


def silenced(flags: np.ndarray, points: int) -> np.ndarray:
    """Keep an alarm only when none was kept in the ``points`` before it."""
    out = np.zeros_like(flags)
    last = -points - 1
    for i in np.flatnonzero(flags):
        if i - last > points:
            out[i] = True
            last = int(i)
    return out


def signal_of(name: str) -> str:
    """The family signal a NAB file is trained as."""
    return next((s for key, s in SIGNALS.items() if key in name), "cpu")


def train_probation(stamps: pd.Series, values: np.ndarray, signal: str, epochs: int, where: str) -> ForecastPredictor:
    """resource-forecast trained as the training job trains it, on the probationary period only.

    Raises:
        MetricsAIError: the family refuses the data (too short, flat...).
    """
    p = probation_length(len(values))
    frame = validate_frame(
        pd.DataFrame({"timestamp": stamps[:p], "signal": signal, "value": values[:p], "node": "nab", "cluster": ""}),
        where=where,
    )
    predictor = ForecastTrainer(load_settings(step=300, lstm_epochs=epochs)).fit(frame).predictor
    assert isinstance(predictor, ForecastPredictor)
    return predictor


@dataclass
class Served:
    """The served ``deviation`` of every point that got an answer (NaN / False elsewhere)."""

    score: np.ndarray
    warning: np.ndarray
    critical: np.ndarray


def serve_points(
    predictor: ForecastPredictor, seconds: np.ndarray, values: np.ndarray, signal: str, start: int
) -> Served:
    """Send every point from index ``start`` on, in order, as a V1 request with the history before it.

    A point whose timestamp does not move forward (NAB has a few repeats) gets no answer and is
    left out of later histories: a request's timestamps must increase.
    """
    n = values.size
    out = Served(np.full(n, np.nan), np.zeros(n, bool), np.zeros(n, bool))
    width = predictor.min_points + 3
    t, y = np.asarray(seconds, dtype=np.float64), np.asarray(values, dtype=np.float64)
    kept = np.flatnonzero(t > np.concatenate([[-np.inf], np.maximum.accumulate(t)[:-1]]))
    points = [(i, kept[j - width + 1 : j + 1]) for j, i in enumerate(kept) if i >= start and j >= width - 1]
    for first in range(0, len(points), BATCH):
        chunk = points[first : first + BATCH]
        instances = [
            {"entity": "nab", "signal": signal, "history": {"timestamps": t[h].tolist(), "values": y[h].tolist()}}
            for _, h in chunk
        ]
        for (i, _), answer in zip(chunk, v1(predictor, instances), strict=True):
            deviation = answer["deviation"]
            out.warning[i] = deviation["is_anomaly"]
            out.critical[i] = deviation["severity"] == "CRITICAL"
            out.score[i] = deviation["score"]
    return out


def stream_file(data: Path, name: str, windows: list[tuple[str, str]], epochs: int) -> FileRun:
    """Train on the probationary period, then detect point by point."""
    began = time.perf_counter()
    raw = pd.read_csv(data / name)
    stamps = pd.to_datetime(raw["timestamp"], utc=True)
    n, p = len(raw), probation_length(len(raw))
    signal = signal_of(name)
    raw["value"] = raw["value"] / DIVISORS.get(signal, 1.0)
    run = FileRun(
        name,
        window_indices(stamps.dt.tz_localize(None).to_numpy(), windows),
        np.zeros(n, bool),
        np.zeros(n, bool),
        np.zeros(n),
        p,
        0.0,
    )
    y = raw["value"].to_numpy(dtype=np.float64)
    try:
        predictor = train_probation(stamps, y, signal, epochs, name)
    except MetricsAIError as exc:
        run.note = f"not trained ({exc}): never fires"
        run.seconds = time.perf_counter() - began
        return run
    served = serve_points(predictor, (stamps.astype("int64") // 10**9).to_numpy(dtype=np.float64), y, signal, p)
    run.warning, run.critical, run.score = served.warning, served.critical, np.nan_to_num(served.score)
    run.seconds = time.perf_counter() - began
    return run


def stream_all(data: Path = NAB, epochs: int = 10, limit: int | None = None) -> list[FileRun]:
    """Every labelled file present under ``data`` (the first ``limit`` of them)."""
    windows = json.loads((data / "combined_windows.json").read_text())
    names = [name for name in sorted(windows) if (data / name).exists()][:limit]
    runs = []
    for name in names:
        runs.append(stream_file(data, name, [tuple(w) for w in windows[name]], epochs))
        print(f"  {name}: {runs[-1].seconds:.0f} s {runs[-1].note}", flush=True)
    return runs


def score_variants(runs: list[FileRun]) -> dict[str, float]:
    """Normalised NAB scores (standard profile) of every variant and baseline."""
    out: dict[str, float] = {}
    variants = {
        "deviation is_anomaly (served default)": lambda r: r.warning,
        "deviation CRITICAL only": lambda r: r.critical,
    }
    for label, pick in variants.items():
        out[label] = normalised([score_file(pick(r), r.windows, probation=r.probation) for r in runs])
    for hours, why in SILENCES:
        out[f"deviation CRITICAL, then silent {hours:g} h ({why})"] = normalised(
            [score_file(silenced(r.critical, int(hours * 12)), r.windows, probation=r.probation) for r in runs]
        )
    best = max(
        THRESHOLDS,
        key=lambda th: normalised([score_file(r.score >= th, r.windows, probation=r.probation) for r in runs]),
    )
    out[f"deviation score >= {best:g} (threshold tuned on these labels, as NAB does)"] = normalised(
        [score_file(r.score >= best, r.windows, probation=r.probation) for r in runs]
    )
    randoms = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        scored = []
        for r in runs:
            rate = float(r.warning[r.probation :].mean()) if r.warning.size > r.probation else 0.0
            scored.append(score_file(rng.random(r.warning.size) < rate, r.windows, probation=r.probation))
        randoms.append(normalised(scored))
    out["random, same alarm rate per file (median of 5 seeds)"] = statistics.median(randoms)
    out["null (never fires)"] = normalised([score_file(np.zeros_like(r.warning), r.windows) for r in runs])
    return out


def per_file(runs: list[FileRun]) -> list[str]:
    """Counts behind the default variant's score, per file."""
    head = (
        f"{'file':58} {'points':>6} {'windows':>7} {'detected':>8} {'alarms':>7} {'false+':>7} "
        f"{'CRITICAL det/false+':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in runs:
        s = score_file(r.warning, r.windows, probation=r.probation)
        c = score_file(r.critical, r.windows, probation=r.probation)
        alarms = int(r.warning[r.probation :].sum())
        lines.append(
            f"{r.name:58} {r.warning.size:6d} {s.windows:7d} {s.detected:8d} {alarms:7d} "
            f"{s.false_positives:7d} {c.detected:9d}/{c.false_positives:<9d} {r.note}".rstrip()
        )
    return lines
