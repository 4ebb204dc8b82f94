"""Tune the deviation alarm by cross-validation: ``python -m bench.nab_variants --data DIR --scores DIR``.

``--scores DIR`` is what ``python -m bench.nab --scores DIR`` kept: every point's served
``deviation.score`` (the forecast model does not change when only the alarm does, so the
alarm is tuned on these, not by rerunning the model). Every setting of a small grid is
run through :class:`metrics_ai.alarm.DeviationAlarm` exactly as ``bench.nab`` runs it
(:func:`bench.nab.alarm_flags`: 1 at each onset) and scored per file by NAB's standard
profile.

The protocol estimates the score on files the settings never saw: **leave one file
out**. For each file, the setting that scores best on the other files (normalised NAB
score; ties: the first in grid order) is chosen and scored on the left-out file; the
left-out files' raw scores are summed and normalised together. The same rule on all
files gives the one frozen setting that ships (``AlarmConfig()``), whose all-files score
is in-sample. Rows below cross-validate sub-families of the grid (each ingredient's
worth, measured the same way).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.nab import alarm_flags, series_step
from bench.nab_score import NAB_DATA, FileScore, normalised, score_file, window_indices
from metrics_ai.alarm import AlarmConfig

HOUR, DAY = 3600.0, 86_400.0
#: the settings searched (every combination; the rest stay at AlarmConfig's defaults)
GRID: dict[str, tuple[float, ...]] = {
    "record_margin": (0.25, 0.5, 1.0),
    "reference_seconds": (DAY, 3.5 * DAY),
    "range_window_seconds": (7 * DAY, 30 * DAY),
    "range_margin": (0.0, 0.02, 0.05),
    "refractory_seconds": (12 * HOUR, 24 * HOUR),
}
#: sub-families, each cross-validated alone: what each trigger is worth
FAMILIES: dict[str, dict[str, tuple[float, ...]]] = {
    "deviation record or value range (shipped)": GRID,
    "deviation record only (range off)": {**GRID, "range_window_seconds": (0.0,), "range_margin": (0.0,)},
    "value range only (deviation never starts one)": {**GRID, "record_margin": (10.0,), "reference_seconds": (DAY,)},
}


@dataclass(frozen=True)
class Kept:
    """One file's kept served scores, its values, its step and its labelled windows (indices)."""

    score: np.ndarray
    value: np.ndarray
    step: float
    windows: list[tuple[int, int]]


def load(data: Path, scores: Path) -> dict[str, Kept]:
    """Every labelled file of ``data`` whose served scores were kept under ``scores``."""
    windows = json.loads((data / "combined_windows.json").read_text())
    out = {}
    for name in sorted(windows):
        if not (scores / name).exists():
            continue
        kept, raw = pd.read_csv(scores / name), pd.read_csv(data / name)
        stamps = pd.to_datetime(raw["timestamp"])
        out[name] = Kept(
            kept["deviation_score"].to_numpy(dtype=np.float64),
            raw["value"].to_numpy(dtype=np.float64),
            series_step((stamps.astype("int64") // 10**9).to_numpy(dtype=np.float64)),
            window_indices(stamps.to_numpy(), windows[name]),
        )
    if not out:
        raise SystemExit(f"--scores {scores}: no <category>/<name>.csv of a labelled file")
    return out


def grid(space: dict[str, tuple[float, ...]]) -> list[AlarmConfig]:
    """Every combination of ``space``'s values, in order."""
    return [AlarmConfig(**dict(zip(space, combo, strict=True))) for combo in itertools.product(*space.values())]


def table(files: dict[str, Kept], settings: Sequence[AlarmConfig]) -> list[dict[str, FileScore]]:
    """Per setting, per file: the NAB score of the alarm's onsets, as ``bench.nab`` writes them."""
    return [
        {n: score_file(alarm_flags(k.score, k.value, k.step, cfg), k.windows) for n, k in files.items()}
        for cfg in settings
    ]


def best(rows: list[dict[str, FileScore]], names: Sequence[str]) -> int:
    """Index of the setting with the best normalised score on ``names`` (first of ties)."""
    scores = [normalised([r[n] for n in names]) for r in rows]
    return int(np.argmax(scores))


def cross_validate(rows: list[dict[str, FileScore]], names: Sequence[str]) -> tuple[float, dict[str, int]]:
    """Leave-one-file-out score and the setting chosen without each file."""
    picks = {held: best(rows, [n for n in names if n != held]) for held in names}
    return normalised([rows[picks[n]][n] for n in names]), picks


def describe(cfg: AlarmConfig) -> str:
    """A setting in a few words."""
    record = "never" if cfg.record_margin >= 10 else f"+{cfg.record_margin:g} over {cfg.reference_seconds / DAY:g} d"
    value = "off" if cfg.range_window_seconds == 0 else f"{cfg.range_window_seconds / DAY:g} d +{cfg.range_margin:g}"
    return f"record {record}, range {value}, refractory {cfg.refractory_seconds / HOUR:g} h"


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--data DIR --scores DIR``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nab_variants", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=NAB_DATA, help="NAB-layout folder, combined_windows.json (default: bench/data/nab)"
    )
    parser.add_argument("--scores", type=Path, required=True, help="python -m bench.nab --scores DIR")
    args = parser.parse_args(argv)
    files = load(args.data, args.scores)
    names = list(files)
    shipped = AlarmConfig()
    print(f"NAB standard profile, {len(names)} files; leave one file out")
    print(f"{'settings searched':48} {'n':>3} {'CV':>6} {'all':>6}  chosen on all files")
    folds: dict[str, int] = {}
    for label, space in FAMILIES.items():
        settings = grid(space)
        rows = table(files, settings)
        cv, picks = cross_validate(rows, names)
        pick = best(rows, names)
        print(
            f"{label:48} {len(rows):3d} {cv:6.2f} {normalised(list(rows[pick].values())):6.2f}  "
            f"{describe(settings[pick])}"
        )
        if space is GRID:
            folds, searched, chosen = picks, settings, settings[pick]
    if chosen != shipped:
        print(f"NOTE: AlarmConfig() is not the setting chosen on all files ({describe(chosen)})")
    shipped_row = table(files, [shipped])[0]
    print(f"\nshipped AlarmConfig(): {normalised(list(shipped_row.values())):.2f} on all files ({describe(shipped)})")
    print(f"{'left-out file':56} {'raw':>7} {'det':>4} {'false+':>6}  setting chosen on the other files")
    rows = table(files, [searched[i] for i in sorted(set(folds.values()))])
    by_setting = dict(zip(sorted(set(folds.values())), rows, strict=True))
    for n in names:
        s = by_setting[folds[n]][n]
        counts = f"{s.score:7.3f} {s.detected:2d}/{s.windows} {s.false_positives:6d}"
        print(f"{n:56} {counts}  {describe(searched[folds[n]])}")
    print(f"leave-one-file-out score: {normalised([by_setting[folds[n]][n] for n in names]):.2f}")


if __name__ == "__main__":
    main()
