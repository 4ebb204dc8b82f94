"""Alarm variants on kept served scores: ``python -m bench.nab_variants --data DIR --scores DIR``.

``DIR`` for ``--scores`` is what ``python -m bench.nab --scores DIR`` kept: every point's
served ``deviation.score``. Each variant below turns those scores into 0/1 alarms (the
likelihood ones through :class:`metrics_ai.alarm.DeviationAlarm`, fed exactly as
``bench.nab`` feeds it) and is scored by NAB's standard profile on all files, the tuning
files and the held-out files (:data:`bench.nab_score.TUNE_RULE`). The shipped
``AlarmConfig`` defaults were chosen on the tuning files only; the other rows show what
each ingredient is worth.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.nab import alarm_flags
from bench.nab_score import NAB_DATA, TUNE_RULE, board, score_file, window_indices
from metrics_ai.alarm import AlarmConfig

DEFAULT = AlarmConfig()


def old_score(score: np.ndarray) -> np.ndarray:
    """The score as served before: ``min(1, d / critical band)``, recovered from ``1 - exp(-d / 2 bands)``."""
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, -2.0 * np.log1p(-np.minimum(score, 1.0)))


def pulse(flags: np.ndarray, refractory: int) -> np.ndarray:
    """Keep a flag only when none was kept in the ``refractory`` points before it."""
    out = np.zeros(flags.size, dtype=np.int8)
    last = -refractory - 1
    for i in np.flatnonzero(flags):
        if i - last > refractory:
            out[i], last = 1, int(i)
    return out


def likelihood(config: AlarmConfig, transform: Callable[[np.ndarray], np.ndarray] = lambda s: s) -> Callable:
    """A variant feeding (transformed) scores to a :class:`DeviationAlarm` with ``config``."""
    return lambda scores: alarm_flags(transform(scores), config)


VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "shipped: likelihood, pulse, refractory 12 h (AlarmConfig())": likelihood(DEFAULT),
    "  ... no refractory": likelihood(dataclasses.replace(DEFAULT, refractory=0)),
    "  ... refractory 24 h": likelihood(dataclasses.replace(DEFAULT, refractory=288)),
    "  ... hysteresis: held while likelihood >= 0.999": likelihood(dataclasses.replace(DEFAULT, max_firing=0)),
    "  ... held at most 1 h": likelihood(dataclasses.replace(DEFAULT, max_firing=12)),
    "  ... min duration 2 points": likelihood(dataclasses.replace(DEFAULT, min_duration=2)),
    "  ... short mean of 6 points": likelihood(dataclasses.replace(DEFAULT, short_window=6)),
    "  ... reference of 7 days (2016 points)": likelihood(dataclasses.replace(DEFAULT, long_window=2016)),
    "  ... fire at 0.99998": likelihood(dataclasses.replace(DEFAULT, fire_likelihood=0.99998)),
    "old capped score, its best settings on the tuning files (fire 0.99998)": likelihood(
        dataclasses.replace(DEFAULT, fire_likelihood=0.99998), old_score
    ),
    "no memory: score >= 0.5 (~2 critical bands), every point": lambda s: (np.nan_to_num(s) >= 0.5).astype(np.int8),
    "no memory: score >= 0.5, then refractory 12 h": lambda s: pulse(np.nan_to_num(s) >= 0.5, 144),
    "no memory: score >= 0.7 (~4 critical bands), then refractory 12 h": lambda s: pulse(np.nan_to_num(s) >= 0.7, 144),
}


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--data DIR --scores DIR``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nab_variants", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=NAB_DATA, help="NAB-layout folder, combined_windows.json (default: bench/data/nab)"
    )
    parser.add_argument("--scores", type=Path, required=True, help="python -m bench.nab --scores DIR")
    args = parser.parse_args(argv)
    windows = json.loads((args.data / "combined_windows.json").read_text())
    files = {}
    for name in sorted(windows):
        path = args.scores / name
        if path.exists():
            frame = pd.read_csv(path)
            stamps = pd.to_datetime(frame["timestamp"]).to_numpy()
            files[name] = (frame["deviation_score"].to_numpy(dtype=np.float64), window_indices(stamps, windows[name]))
    if not files:
        raise SystemExit(f"--scores {args.scores}: no <category>/<name>.csv of a labelled file")
    print(f"NAB standard profile, {len(files)} files; {TUNE_RULE}")
    print(f"{'variant':74} {'all':>7} {'tuning':>7} {'held out':>8} {'alarms':>6}")
    for label, variant in VARIANTS.items():
        flags = {name: variant(scores) for name, (scores, _) in files.items()}
        scored = {name: score_file(flags[name], files[name][1]) for name in files}
        every, tune, held = board(scored)
        print(f"{label:74} {every:7.2f} {tune:7.2f} {held:8.2f} {sum(int(f.sum()) for f in flags.values()):6d}")


if __name__ == "__main__":
    main()
