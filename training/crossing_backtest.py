"""Replaying a held-out tail through a family's own request-path estimate.

disk-eta and io-crisis both answer "when does this series reach its threshold?".
Their backtest replays the chronological tail: at cut points every few hours, the
estimate sees only the data up to the cut (exactly as a request would) and says
whether the threshold is reached within the window that follows; the hourly means
of what actually happened say whether it was. The counts (true/false positives,
misses, true negatives) go into the family's metrics.

A call is timed to the hour at best (hourly grid, hourly means), so a crossing
predicted up to ``grace`` (3 h) after the window's end counts as a call for that
window: otherwise a forecast one hour late at the last cut of the data would be
a miss, and one hour early for the window after a false alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics_ai.crossing import HOUR, bin_means


def series_by(
    frame: pd.DataFrame, signal: str, labels: tuple[str, ...]
) -> dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]]:
    """Each entity's (unix seconds, values) for one signal, keyed by its label values.

    Samples that share a timestamp within an entity (the same node name in two
    clusters, say) are averaged.
    """
    sub = frame[frame["signal"] == signal]
    out = {}
    for key, group in sub.groupby(list(labels), observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        t = (group["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64)
        v = group["value"].to_numpy(np.float64)
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        if t.size > 1 and not (np.diff(t) > 0).all():
            t, inverse = np.unique(t, return_inverse=True)
            v = np.bincount(inverse, weights=v) / np.bincount(inverse)
        out[tuple(str(k) for k in key)] = (t, v)
    return out


#: estimate(history_t, history_v, window_seconds) -> seconds to crossing, None = not in window
CrossingEstimate = Callable[[np.ndarray, np.ndarray, float], float | None]


@dataclass
class DetectionCounts:
    """Alarm outcomes over replayed cut points (one series or many, summed)."""

    true_positives: int = 0
    false_positives: int = 0
    misses: int = 0
    true_negatives: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        """Count one cut point."""
        if predicted and actual:
            self.true_positives += 1
        elif predicted:
            self.false_positives += 1
        elif actual:
            self.misses += 1
        else:
            self.true_negatives += 1

    def __iadd__(self, other: DetectionCounts) -> DetectionCounts:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.misses += other.misses
        self.true_negatives += other.true_negatives
        return self

    @property
    def cases(self) -> int:
        """Cut points counted."""
        return self.true_positives + self.false_positives + self.misses + self.true_negatives

    @property
    def error_rate(self) -> float:
        """(false alarms + misses) / cases; 0 when nothing was counted."""
        return (self.false_positives + self.misses) / self.cases if self.cases else 0.0

    def as_dict(self) -> dict[str, float]:
        """For the manifest's metrics."""
        return {
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "misses": self.misses,
            "true_negatives": self.true_negatives,
            "error_rate": self.error_rate,
        }


def replay_tail(
    t: np.ndarray,
    v: np.ndarray,
    split: int,
    threshold: float,
    horizon: float,
    estimate: CrossingEstimate,
    every: float = 6 * HOUR,
    min_window: float = 6 * HOUR,
    grace: float = 3 * HOUR,
) -> DetectionCounts:
    """Replay cut points from ``t[split]`` every ``every`` seconds through ``estimate``.

    Each cut's window runs to ``min(cut + horizon, t[-1])``; windows shorter than
    ``min_window`` are not counted.
    """
    counts = DetectionCounts()
    tb, vb = bin_means(t, v, HOUR)
    cut = float(t[split])
    while cut + min_window <= t[-1]:
        end = min(cut + horizon, float(t[-1]))
        seen = t <= cut
        eta = estimate(t[seen], v[seen], end - cut)
        future = (tb > cut) & (tb <= end)
        actual = bool((vb[future] >= threshold).any())
        counts.add(eta is not None and eta <= end - cut + grace, actual)
        cut += every
    return counts


def errors(actual: np.ndarray, forecast: np.ndarray) -> tuple[float, float]:
    """(MAE, RMSE) of a forecast against what happened."""
    diff = np.asarray(forecast, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.mean(np.abs(diff))), float(np.sqrt(np.mean(diff**2)))
