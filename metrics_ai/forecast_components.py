"""The resource-forecast components evaluated from fitted state, shared by serving and backtest.

Every function takes a series and *cut points* (index of the last known value) and
returns one forecast row per cut, so the backtest (many cuts on the held-out tail)
and the predictor (one cut at the end of the request's history, one before it for
the deviation check) run exactly the same code.

- Prophet: the exported fitted curve (:class:`ProphetState`), anchored: shifted so
  that its first forecast point is the level the history shows (the median of its
  last ``anchor`` points, ``anchor`` chosen per series on the calibration window). The
  curve gives the shape over the horizon, the history the level: a fitted trend that
  drifted away from the data cannot carry the forecast with it.
- ARIMA(p,1,0): :class:`ArimaState` filtered forward with the fitted parameters.
- LSTM: MinMax scaling (per window by default: the window's own range, so level
  shifts, spikes in the training range, unseen entities and pooled networks need
  no stored range; or the series' training range, as the original), the
  :class:`NumpyLSTM` forward pass, unscaling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from metrics_ai.lstm_numpy import NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState, calendar_regressors
from metrics_ai.series import clip_to_range

COMPONENTS: tuple[str, ...] = ("prophet", "arima", "lstm")
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


def prophet_curve(state: ProphetState, t: np.ndarray) -> np.ndarray:
    """Prophet's fitted ``yhat`` at unix seconds ``t`` (any shape)."""
    flat = np.asarray(t, dtype=np.float64).reshape(-1)
    return state.predict(flat, calendar_regressors(flat)).reshape(np.shape(t))


def recent_level(y: np.ndarray, cuts: np.ndarray, window: int) -> np.ndarray:
    """The median of the ``window`` values up to each cut (inclusive; clamped at the start) ``[N]``."""
    cuts = np.asarray(cuts)
    lags = np.minimum(np.arange(max(1, int(window)))[None, :], cuts[:, None])
    return np.median(np.asarray(y, dtype=np.float64)[cuts[:, None] - lags], axis=1)


def prophet_forecast_at(
    state: ProphetState,
    t: np.ndarray,
    y: np.ndarray,
    cuts: np.ndarray,
    step: float,
    horizon: int,
    anchor: int,
) -> np.ndarray:
    """Prophet's curve after each cut, shifted to start at the history's recent level ``[N, H]``.

    The first forecast point is :func:`recent_level` over ``anchor`` points (the median, so a
    spike does not set the level); the later ones follow the curve's change from there.
    Only the horizon and those points are evaluated: the cost does not grow with the history.
    """
    curve = prophet_curve(state, future_times(t, np.asarray(cuts), step, horizon))
    return curve - curve[:, :1] + recent_level(y, cuts, anchor)[:, None]


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


def lstm_forecast(model: NumpyLSTM, windows: np.ndarray, scalers: list[MinMax] | None = None) -> np.ndarray:
    """Scale, run the network once for all windows, unscale.

    Args:
        windows: ``[N, seq_len]`` raw values.
        scalers: one fixed MinMax per window (``lstm_scaling="series"``), or None to
            MinMax-scale each window by its own range (``"window"``).
    """
    if scalers is None:
        lo, span = window_ranges(windows)
    else:
        lo = np.asarray([s.lo for s in scalers])[:, None]
        span = np.asarray([s.span for s in scalers])[:, None]
    scaled = np.clip((windows - lo) / span, *CLIP)
    return model.predict(scaled) * span + lo


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


def gate_components(errors: Mapping[str, float], naive: float, k: float) -> dict[str, float]:
    """Components not to serve for a series: calibration MAE over ``k`` times the naive MAE.

    Args:
        errors: component -> MAE on the series' calibration cuts.
        naive: the last-value naive MAE on the same cuts.
        k: the gate (``ForecastConfig.gate_k``).

    Returns:
        component -> its MAE / naive MAE, for each gated one. The best component is never
        gated: a series always keeps at least one.
    """
    if not errors or naive <= 0:
        return {}
    ratios = {name: mae / naive for name, mae in errors.items()}
    best = min(ratios, key=ratios.__getitem__)
    return {name: r for name, r in ratios.items() if r > k and name != best}


def served(forecasts: dict[str, np.ndarray | None], gated: Mapping[str, float]) -> dict[str, np.ndarray | None]:
    """The forecasts with every gated component set to None (not served, not combined)."""
    return {name: None if name in gated else f for name, f in forecasts.items()}


def combine(
    forecasts: Mapping[str, np.ndarray | None],
    weights: Mapping[str, np.ndarray],
    method: str = "weighted",
) -> np.ndarray:
    """The ensemble of the components that ran.

    Args:
        forecasts: component -> ``[N, H]`` (None: did not run).
        weights: component -> ``[H]`` non-negative weights (``"weighted"``), renormalised
            per step over the components that ran (an all-zero step: plain mean).
        method: ``"weighted"`` (mean with ``weights``) or ``"median"`` (per point median
            of the components; with two components, their mean).
    """
    ran = [(name, np.asarray(f, dtype=np.float64)) for name, f in forecasts.items() if f is not None]
    if not ran:
        raise ValueError("no component ran")
    stack = np.stack([f for _, f in ran])  # [C, N, H]
    if method == "median":
        return np.median(stack, axis=0)
    w = np.stack([np.asarray(weights[name], dtype=np.float64) for name, _ in ran])  # [C, H]
    den = w.sum(axis=0)
    w = np.where(den > 0, w / np.where(den > 0, den, 1.0), 1.0 / len(ran))
    return np.einsum("ch,cnh->nh", w, stack)


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
