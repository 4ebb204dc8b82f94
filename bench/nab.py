"""The shipped deviation alarm as a NAB detector: ``python -m bench.nab --data DIR --out DIR``.

For every CSV of a NAB-layout folder (``DIR/<category>/<name>.csv``, columns
``timestamp,value``) resource-forecast is trained on the file's first 15 % only (NAB's
probationary period, at most 750 points; no labels), exactly as the training job trains
it (:func:`bench.nab_detector.train_probation`). Then every point is sent in time order
as a V1 request with the history before it through the predictor's Python API
(``ForecastPredictor`` through its V1 codec, the code the KServe predictor serves), and the
answer's ``deviation.score`` and the point's value go, one pair per new point, into a
:class:`metrics_ai.alarm.DeviationAlarm` with its default (shipped) settings and the
file's step: what the alerting client does per entity. Points inside the probationary
period are fed too (the model has seen them, the alarm learns its reference there; NAB
does not score them).

Writes ``OUT/<category>/<name>.csv`` with ``timestamp,value,anomaly_score``: 1 at each
alarm onset (where the alert as shipped fires: Alertmanager notifies when it starts; the
exported gauge then holds 1 for ``hold_seconds``), 0 elsewhere, one row per input row.
Score it with ``python -m bench.nab_score --data DIR --results OUT``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.nab_detector import serve_points, signal_of, train_probation
from bench.nab_score import NAB_DATA
from metrics_ai.alarm import AlarmConfig, AlarmState, DeviationAlarm
from metrics_ai.errors import MetricsAIError


def series_step(seconds: np.ndarray) -> float:
    """The series' step: the median gap between consecutive timestamps (seconds; 300 on NAB)."""
    gaps = np.diff(np.asarray(seconds, dtype=np.float64))
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 300.0


def alarm_states(
    scores: np.ndarray, values: np.ndarray, step: float, config: AlarmConfig | None = None
) -> list[tuple[int, AlarmState]]:
    """``(index, state)`` of every answered point (finite score), fed in order as the client feeds it."""
    alarm = DeviationAlarm(config, step)
    return [(int(i), alarm.update(float(scores[i]), float(values[i]))) for i in np.flatnonzero(np.isfinite(scores))]


def alarm_flags(scores: np.ndarray, values: np.ndarray, step: float, config: AlarmConfig | None = None) -> np.ndarray:
    """0/1 per point: 1 at each alarm onset (where Alertmanager would notify), NaN score: no new point."""
    out = np.zeros(scores.size, dtype=np.int8)
    for i, state in alarm_states(scores, values, step, config):
        out[i] = state.onset
    return out


def detect_file(
    path: Path, name: str, epochs: int, config: AlarmConfig | None = None
) -> tuple[pd.DataFrame, np.ndarray, str]:
    """One file's ``timestamp,value,anomaly_score`` frame, the served scores and a note (empty if all went well)."""
    raw = pd.read_csv(path)
    missing = {"timestamp", "value"} - set(raw.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)} (NAB layout: timestamp,value)")
    out = pd.DataFrame({"timestamp": raw["timestamp"], "value": raw["value"], "anomaly_score": 0})
    stamps = pd.to_datetime(raw["timestamp"], utc=True)
    values = raw["value"].to_numpy(dtype=np.float64)
    signal = signal_of(name)
    try:
        predictor = train_probation(stamps, values, signal, epochs, name)
    except MetricsAIError as exc:
        return out, np.full(len(raw), np.nan), f"not trained ({exc}): never fires"
    seconds = (stamps.astype("int64") // 10**9).to_numpy(dtype=np.float64)
    served = serve_points(predictor, seconds, values, signal, start=0)
    out["anomaly_score"] = alarm_flags(served.score, values, series_step(seconds), config)
    return out, served.score, ""


def run(data: Path, out: Path, epochs: int = 10, scores: Path | None = None) -> list[tuple[str, int, int, float, str]]:
    """Detect every ``DIR/<category>/<name>.csv``; ``(name, rows, alarms, seconds, note)`` per file.

    With ``scores``, each file's served scores go to ``scores/<category>/<name>.csv``
    (``timestamp,deviation_score``, empty where no answer) for ``bench.nab_variants``.
    """
    files = sorted(p for p in data.glob("*/*.csv") if p.is_file())
    if not files:
        raise SystemExit(f"--data {data}: no <category>/<name>.csv files (NAB layout)")
    rows = []
    for path in files:
        began = time.perf_counter()
        name = f"{path.parent.name}/{path.name}"
        frame, served, note = detect_file(path, name, epochs)
        for folder, table in ((out, frame), (scores, frame[["timestamp"]].assign(deviation_score=served))):
            if folder is not None:
                target = folder / path.parent.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                table.to_csv(target, index=False)
        rows.append((name, len(frame), int(frame["anomaly_score"].sum()), time.perf_counter() - began, note))
        print(f"  {name}: {rows[-1][1]} rows, {rows[-1][2]} alarms, {rows[-1][3]:.0f} s {note}".rstrip(), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--data DIR --out DIR [--epochs N]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nab", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=NAB_DATA, help="NAB-layout folder: <category>/<name>.csv (default: bench/data/nab)"
    )
    parser.add_argument("--out", type=Path, required=True, help="where <category>/<name>.csv detections go")
    parser.add_argument("--epochs", type=int, default=10, help="LSTM epochs (the training default: 10)")
    parser.add_argument("--scores", type=Path, help="also keep the served deviation scores here (bench.nab_variants)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rows = run(args.data, args.out, args.epochs, args.scores)
    print(
        f"{len(rows)} files, {sum(r[2] for r in rows)} alarms, {time.perf_counter() - began:.0f} s; "
        f"score: python -m bench.nab_score --data {args.data} --results {args.out}"
    )


if __name__ == "__main__":
    main()
