"""resource-forecast's shared arithmetic: scaling, windows, horizon slots, bounds, interval units.

Every function takes a series and *cut points* (index of the last known value) and
returns one row per cut, so the backtest (many cuts on the held-out tail) and the
predictor (one cut at the end of the request's history, one before it for the
deviation check) run exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics_ai.series import clip_to_range

CLIP = (-4.0, 5.0)
"""Scaled LSTM inputs and training targets are clipped to this range."""


@dataclass(frozen=True, slots=True)
class MinMax:
    """MinMax scaling of one series (the original system's scaler)."""

    lo: float
    hi: float

    @property
    def span(self) -> float:
        """hi - lo, floored so a constant series does not divide by zero."""
        return max(self.hi - self.lo, 1e-6 * max(1.0, abs(self.hi), abs(self.lo)))

    @classmethod
    def fit(cls, values: np.ndarray) -> MinMax:
        """Range of ``values``."""
        return cls(float(np.min(values)), float(np.max(values)))

    def scale(self, x: np.ndarray) -> np.ndarray:
        """Into [0, 1] over the fitted range (clipped far outside it)."""
        return np.clip((np.asarray(x, dtype=np.float64) - self.lo) / self.span, *CLIP)

    def unscale(self, z: np.ndarray) -> np.ndarray:
        """Back to original units."""
        return np.asarray(z, dtype=np.float64) * self.span + self.lo


def future_times(t: np.ndarray, cuts: np.ndarray, step: float, horizon: int) -> np.ndarray:
    """``[len(cuts), horizon]`` timestamps ``t[c] + step * (1..horizon)``."""
    return np.asarray(t, dtype=np.float64)[cuts][:, None] + step * np.arange(1, horizon + 1)[None, :]


def recent_level(y: np.ndarray, cuts: np.ndarray, window: int) -> np.ndarray:
    """The median of the ``window`` values up to each cut (inclusive; clamped at the start) ``[N]``."""
    cuts = np.asarray(cuts)
    lags = np.minimum(np.arange(max(1, int(window)))[None, :], cuts[:, None])
    return np.median(np.asarray(y, dtype=np.float64)[cuts[:, None] - lags], axis=1)


def windows_at(y: np.ndarray, cuts: np.ndarray, length: int) -> np.ndarray:
    """``[len(cuts), length]`` windows ending at each cut (inclusive)."""
    offsets = np.arange(-length + 1, 1)
    return np.asarray(y, dtype=np.float64)[np.asarray(cuts)[:, None] + offsets]


def window_ranges(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-window MinMax: ``lo [N, 1]`` and ``span [N, 1]`` of each input window.

    The span is floored at 1e-3 of the window's level, so a flat window does not
    divide by zero.
    """
    lo = windows.min(axis=1, keepdims=True)
    hi = windows.max(axis=1, keepdims=True)
    floor = np.maximum(1e-3 * np.abs(windows).mean(axis=1, keepdims=True), 1e-9)
    return lo, np.maximum(hi - lo, floor)


def horizon_index(steps_ahead_s: np.ndarray, model_step: float, model_horizon: int) -> np.ndarray:
    """Which trained horizon slot serves each requested lead time (nearest, clipped)."""
    idx = np.rint(np.asarray(steps_ahead_s, dtype=np.float64) / model_step).astype(int) - 1
    return np.clip(idx, 0, model_horizon - 1)


def bounded(forecasts: dict[str, np.ndarray | None], signal: str) -> dict[str, np.ndarray | None]:
    """Every component's forecasts clipped to the signal's physical range (:data:`SIGNAL_RANGES`).

    Applied where the components' forecasts are gathered, by the predictor and by the backtest
    alike, so no component (and so no ensemble of them) answers a ratio outside [0, 1] or a
    negative rate.
    """
    return {name: None if f is None else clip_to_range(f, signal) for name, f in forecasts.items()}


def local_scale(y: np.ndarray, cuts: np.ndarray, window: int, floor: float) -> np.ndarray:
    """Mean absolute one-step change over the ``window`` points up to each cut (>= ``floor``).

    The unit of the interval half-widths: errors scale with how much a series moves
    right now, so intervals calibrated in this unit keep their coverage across regimes.
    """
    y = np.asarray(y, dtype=np.float64)
    cs = np.concatenate([[0.0, 0.0], np.cumsum(np.abs(np.diff(y)))])  # cs[i] = sum |dy| up to index i - 1
    cuts = np.asarray(cuts)
    first = np.maximum(cuts - window, 0)
    n = np.maximum(cuts - first, 1)
    return np.maximum((cs[cuts + 1] - cs[first + 1]) / n, floor)


def interval_unit(y: np.ndarray, cuts: np.ndarray, window: int, scale: float) -> np.ndarray:
    """The unit of interval half-widths at each cut: :func:`local_scale` over ``window``.

    Floored at a millionth of the series' typical change ``scale`` only so that a flat
    window does not give a zero-width interval; a larger floor distorts the unit of
    series that idle between bursts.
    """
    return local_scale(y, cuts, window, max(1e-6 * scale, 1e-12))
