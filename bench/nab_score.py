"""The Numenta Anomaly Benchmark's scoring rules, written from their published description.

Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms: the Numenta Anomaly
Benchmark" (2015), and NAB's README ("Scoring"):

- Each file has labelled anomaly windows; the first 15 % of a file (at most 750 points)
  is the probationary period, where the detector may learn and its alarms do not count.
- Inside a window only the *first* detection counts: it earns the scaled sigmoid of its
  position relative to the window's end, ``2 / (1 + exp(5 x)) - 1`` with ``x = -1`` at
  the window's first point (1.0 after normalising by its value there) and ``x = 0``
  just past its last; later detections in the same window neither earn nor cost.
  A window without detection costs ``A_fn``.
- A detection outside every window is a false positive: it costs ``|A_fp|`` times the
  scaled sigmoid of its distance after the closest preceding window's end (in window
  lengths), so an alarm just after a window costs little; with no preceding window,
  or more than 3 window lengths after one, it costs the full ``A_fp``.
- Scores are summed over the files and normalised so the null detector (never fires)
  scores 0 and a perfect one (every window hit at its first point, nothing else) 100.
  As in NAB's runner, "perfect" counts every labelled window and "null" only the windows
  with a point after the probationary period (a window wholly inside it is neither hit nor missed).

Checked against NAB's own ``nab/sweeper.py`` on the stored detections of its scoreboard
(``tests/bench/test_nab_score.py`` pins one file; docs/BENCHMARKS.md lists the ten).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Profile:
    """Application profile weights (A_tp, A_fp, A_fn, A_tn; A_tn does not enter the score)."""

    tp: float = 1.0
    fp: float = -0.11
    fn: float = -1.0
    tn: float = 1.0


STANDARD = Profile()
"""NAB's "standard" profile."""

#: published NAB v1.1 scoreboard, standard profile, full corpus (58 files)
PUBLISHED: dict[str, float] = {
    "Numenta HTM": 70.5,
    "CAD OSE": 69.9,
    "Random Cut Forest": 51.7,
    "Twitter ADVec": 47.1,
    "random": 11.0,
}


def scaled_sigmoid(position: float) -> float:
    """NAB's weighting of a detection at ``position`` relative to a window's end."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_length(n: int, fraction: float = 0.15) -> int:
    """Points of the probationary period of a file of ``n`` points."""
    return int(min(math.floor(fraction * n), fraction * 5000))


def window_indices(timestamps: np.ndarray, windows: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """Each labelled window ``(start, end)`` as the inclusive indices of the points inside it."""
    t = np.asarray(timestamps, dtype="datetime64[ns]")
    out = []
    for start, end in windows:
        first = int(np.searchsorted(t, np.datetime64(start, "ns"), side="left"))
        last = int(np.searchsorted(t, np.datetime64(end, "ns"), side="right")) - 1
        if last >= first:
            out.append((first, last))
    return out


@dataclass(frozen=True)
class FileScore:
    """One file's raw score and counts."""

    score: float
    windows: int
    detected: int
    false_positives: int
    scorable: int | None = None
    """windows with a point after the probationary period (None: all of them)"""


def score_file(
    detections: np.ndarray,
    windows: Sequence[tuple[int, int]],
    profile: Profile = STANDARD,
    probation: int | None = None,
) -> FileScore:
    """Raw NAB score of one file's boolean detections against its windows (index pairs)."""
    hits = np.asarray(detections, dtype=bool).copy()
    start = probation_length(hits.size) if probation is None else probation
    hits[:start] = False
    inside = np.zeros(hits.size, dtype=bool)
    score, detected, scorable = 0.0, 0, 0
    top = scaled_sigmoid(-1.0)
    for first, last in windows:
        inside[first : last + 1] = True
        if last < start:
            continue
        scorable += 1
        found = np.flatnonzero(hits[first : last + 1])
        if found.size == 0:
            score += profile.fn
            continue
        position = -(last - (first + int(found[0])) + 1) / float(last - first + 1)
        score += scaled_sigmoid(position) * profile.tp / top
        detected += 1
    ends = np.asarray([last for _, last in windows])
    lengths = np.asarray([last - first + 1 for first, last in windows])
    false_positives = np.flatnonzero(hits & ~inside)
    for i in false_positives:
        before = np.flatnonzero(ends < i)
        if before.size == 0:
            score += profile.fp
            continue
        j = int(before[np.argmin(i - ends[before])])
        position = abs(int(ends[j]) - int(i)) / float(max(lengths[j] - 1, 1))
        score += scaled_sigmoid(position) * abs(profile.fp)
    return FileScore(score, len(windows), detected, int(false_positives.size), scorable)


def normalised(scores: Sequence[FileScore], profile: Profile = STANDARD) -> float:
    """Summed raw scores on NAB's 0 (null detector) .. 100 (perfect detector) scale."""
    raw = sum(s.score for s in scores)
    windows = sum(s.windows for s in scores)
    null = profile.fn * sum(s.windows if s.scorable is None else s.scorable for s in scores)
    perfect = profile.tp * windows
    return 100.0 * (raw - null) / (perfect - null)
