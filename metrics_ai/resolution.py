"""Time resolution of series: the native step of data, and histories brought to a model's step.

Training fits every forecasting component at the step its data has (never at a finer
one: 5-minute data are not interpolated into 1-minute points), and the predictor
applies a component only at the step it was fitted at. A request history at a finer
step is brought to the model's step by interval means (:func:`to_step`); a coarser or
irregular one cannot be, and the caller says so.
"""

from __future__ import annotations

import numpy as np

STEP_TOLERANCE = 0.1
"""Relative difference under which two steps are the same step (scrape jitter)."""
SANE_STEPS: tuple[int, ...] = (
    1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
)
"""Steps a median spacing snaps to when it lies within :data:`STEP_TOLERANCE` of one."""
MAX_EMPTY_BINS = 2
"""Empty bins (a short gap) :func:`to_step` carries the previous mean over; more: irregular."""


def median_spacing(t: np.ndarray) -> float:
    """Median positive spacing of unix-second timestamps (0.0 with fewer than two distinct)."""
    d = np.diff(np.unique(np.asarray(t, dtype=np.float64)))
    return float(np.median(d)) if d.size else 0.0


def snap_step(seconds: float) -> int:
    """A spacing in seconds as a sane step: the nearest of :data:`SANE_STEPS` within 10 %,
    else whole minutes (whole seconds under a minute)."""
    for sane in SANE_STEPS:
        if abs(seconds - sane) <= STEP_TOLERANCE * sane:
            return sane
    if seconds >= 60:
        return int(round(seconds / 60.0)) * 60
    return max(1, int(round(seconds)))


def native_step(t: np.ndarray, floor: int = 1) -> int:
    """The step data were sampled at: the snapped median spacing, never finer than ``floor``.

    ``floor`` is STEP for training: data from Prometheus come at STEP (its query
    resolution), and finer data are averaged to it rather than kept at their own step.
    """
    spacing = median_spacing(t)
    return max(int(floor), snap_step(spacing)) if spacing > 0 else int(floor)


def same_step(a: float, b: float) -> bool:
    """Whether two steps are equal within :data:`STEP_TOLERANCE`."""
    return abs(a - b) <= STEP_TOLERANCE * max(a, b)


def to_step(t: np.ndarray, y: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray] | None:
    """A finer history as means over ``step``-second intervals ending at its last timestamp.

    Each interval ``(end - step, end]`` becomes one point stamped at ``end`` (as a
    Prometheus ``rate(...[step])`` or ``avg_over_time`` sample is); the oldest interval
    is kept only when the history covers it completely. Up to :data:`MAX_EMPTY_BINS`
    empty intervals in a row (a short gap) carry the previous mean.

    Returns:
        (timestamps, values) at ``step``, or None when the history is coarser than
        ``step`` or has longer gaps (irregular): it cannot be served at ``step``.
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    spacing = median_spacing(t)
    if t.size < 2 or spacing <= 0 or spacing > step * (1 + STEP_TOLERANCE):
        return None
    end = t[-1]
    k = np.floor((end - t) / step).astype(np.int64)  # interval (end - (k+1) step, end - k step]
    n = int(k.max()) + 1
    if (end - t[0]) < n * step - spacing * (1 + STEP_TOLERANCE):
        n -= 1  # the oldest interval is only partly covered
        keep = k < n
        t, y, k = t[keep], y[keep], k[keep]
    if n < 1:
        return None
    counts = np.bincount(k, minlength=n)
    sums = np.bincount(k, weights=y, minlength=n)
    means = (sums / np.maximum(counts, 1))[::-1]  # oldest first
    empty = (counts == 0)[::-1]
    if empty.any():
        runs = np.diff(np.flatnonzero(np.concatenate(([True], ~empty, [True])))) - 1
        if runs.max() > MAX_EMPTY_BINS or empty[0]:
            return None
        for i in np.flatnonzero(empty):
            means[i] = means[i - 1]
    stamps = end - step * np.arange(n)[::-1]
    return stamps, means


def horizon_points(horizon_min: float, step: float) -> int:
    """Points in a horizon of ``horizon_min`` minutes at ``step`` seconds (at least one).

    The one minutes-to-points formula: 15 minutes at 60 s is 15 points, at 300 s 3.
    """
    return max(1, int((horizon_min * 60) // step))
