"""resource-forecast's components, as objects behind one protocol, and the one list of them.

Each :class:`Component` forecasts from its fitted state (:class:`Parts`) after cut points
of a history (:class:`Window`), and writes and reads its fields of a series' state (the
``forecast.json`` layout: ``prophet``/``anchor``, ``arima``, ``lstm``/``scaler``). Their
fitting halves live in the training job (``training.families.forecast.fitting``), keyed
by the same names: the predictor image carries no fitting library.

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

:data:`COMPONENTS` is the one list; :data:`NAMES` and every check of a component name
(FORECAST_COMPONENTS, a stored config) derive from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.families.forecast.numeric import CLIP, MinMax, future_times, recent_level, window_ranges, windows_at
from metrics_ai.lstm_numpy import NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState, calendar_regressors

#: the anchor window of a state saved before anchors were calibrated (the best fixed one measured)
DEFAULT_ANCHOR = 3


@dataclass(frozen=True, slots=True)
class Window:
    """What a component forecasts from: history ``t``/``y`` and the cut points to forecast after.

    Attributes:
        t, y: unix seconds and values of the history.
        cuts: indexes of the last known value of each forecast.
        step: the history's step in seconds.
        horizon: points to forecast after each cut.
    """

    t: np.ndarray
    y: np.ndarray
    cuts: np.ndarray
    step: float
    horizon: int


@dataclass(frozen=True, slots=True)
class Parts:
    """The fitted state each component serves one series (or a signal's pool) from.

    Attributes:
        prophet, anchor: the fitted curve and its anchor window (points).
        arima: the fitted ARIMA(p,1,0) coefficients.
        lstms: the networks whose outputs are averaged (one for a series; a pool's several).
        seq_len: the networks' input window.
        scaler: one fixed MinMax for every window (``lstm_scaling="series"``), or None.
        scale_each: with no ``scaler``, MinMax-fit each window (a pool under series scaling)
            instead of the per-window ranges the networks were trained with.
    """

    prophet: ProphetState | None = None
    anchor: int = DEFAULT_ANCHOR
    arima: ArimaState | None = None
    lstms: tuple[NumpyLSTM, ...] = ()
    seq_len: int = 60
    scaler: MinMax | None = None
    scale_each: bool = False


class SeriesFields(Protocol):
    """The component fields of a saved series (:class:`~metrics_ai.families.forecast.state.SeriesModel`)."""

    prophet: ProphetState | None
    anchor: int
    arima: ArimaState | None
    lstm: str | None
    scaler: MinMax | None


class Component(Protocol):
    """One forecasting component, as served.

    Attributes:
        name: its name (FORECAST_COMPONENTS, the answer's ``components``, metric names).
        colour: its colour in the training report's figures.
        pooled: whether it serves an entity the model has never seen (from the signal's pool).
    """

    @property
    def name(self) -> str:
        """Its name."""

    @property
    def colour(self) -> str:
        """Its figure colour."""

    @property
    def pooled(self) -> bool:
        """Whether a signal's pool serves it."""

    def min_points(self, seq_len: int) -> int:
        """Shortest history it forecasts from."""

    def forecast(self, parts: Parts, window: Window) -> np.ndarray | None:
        """``[len(cuts), horizon]`` forecasts, or None when ``parts`` holds no state of it."""

    def to_state(self, series: SeriesFields) -> dict[str, Any]:
        """Its fields of a series' saved state (JSON-ready)."""

    def from_state(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Its :class:`SeriesFields` read back from :meth:`to_state`'s output."""


def prophet_curve(state: ProphetState, t: np.ndarray) -> np.ndarray:
    """Prophet's fitted ``yhat`` at unix seconds ``t`` (any shape)."""
    flat = np.asarray(t, dtype=np.float64).reshape(-1)
    return state.predict(flat, calendar_regressors(flat)).reshape(np.shape(t))


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


@dataclass(frozen=True, slots=True)
class ProphetComponent:
    """Prophet's fitted curve, anchored to the history's recent level."""

    name: str = "prophet"
    colour: str = "tab:green"
    pooled: bool = False

    def min_points(self, seq_len: int) -> int:
        """Two points: the level and the step."""
        return 2

    def forecast(self, parts: Parts, window: Window) -> np.ndarray | None:
        """:func:`prophet_forecast_at` with the series' anchor."""
        if parts.prophet is None:
            return None
        w = window
        return prophet_forecast_at(parts.prophet, w.t, w.y, w.cuts, w.step, w.horizon, parts.anchor)

    def to_state(self, series: SeriesFields) -> dict[str, Any]:
        """``prophet`` (the exported curve) and ``anchor``."""
        return {"prophet": series.prophet.to_dict() if series.prophet else None, "anchor": series.anchor}

    def from_state(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`to_state` (states saved before anchors: :data:`DEFAULT_ANCHOR`)."""
        return {
            "prophet": ProphetState.from_dict(raw["prophet"]) if raw.get("prophet") else None,
            "anchor": int(raw.get("anchor", DEFAULT_ANCHOR)),
        }


@dataclass(frozen=True, slots=True)
class ArimaComponent:
    """ARIMA(p,1,0) filtered forward with the fitted coefficients."""

    name: str = "arima"
    colour: str = "tab:orange"
    pooled: bool = True

    def min_points(self, seq_len: int) -> int:
        """p + 1 points for ARIMA(2,1,0)."""
        return 3

    def forecast(self, parts: Parts, window: Window) -> np.ndarray | None:
        """:meth:`ArimaState.forecast_at` after each cut."""
        if parts.arima is None:
            return None
        return parts.arima.forecast_at(window.y, window.cuts, window.horizon)

    def to_state(self, series: SeriesFields) -> dict[str, Any]:
        """``arima`` (the coefficients)."""
        return {"arima": series.arima.to_dict() if series.arima else None}

    def from_state(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`to_state`."""
        return {"arima": ArimaState.from_dict(raw["arima"]) if raw.get("arima") else None}


@dataclass(frozen=True, slots=True)
class LstmComponent:
    """The NumPy LSTM forward pass on MinMax-scaled windows (outputs of several networks averaged)."""

    name: str = "lstm"
    colour: str = "tab:purple"
    pooled: bool = True

    def min_points(self, seq_len: int) -> int:
        """One input window."""
        return seq_len

    def forecast(self, parts: Parts, window: Window) -> np.ndarray | None:
        """The mean of :func:`lstm_forecast` over ``parts.lstms`` on the windows ending at each cut."""
        if not parts.lstms:
            return None
        windows = windows_at(window.y, window.cuts, parts.seq_len)
        scalers = self.scalers(parts, windows)
        if len(parts.lstms) == 1:
            return lstm_forecast(parts.lstms[0], windows, scalers)
        return np.asarray(np.mean([lstm_forecast(net, windows, scalers) for net in parts.lstms], axis=0))

    @staticmethod
    def scalers(parts: Parts, windows: np.ndarray) -> list[MinMax] | None:
        """One MinMax per window (series scaling), or None (each window by its own range)."""
        if parts.scaler is not None:
            return [parts.scaler] * len(windows)
        return [MinMax.fit(w) for w in windows] if parts.scale_each else None

    def to_state(self, series: SeriesFields) -> dict[str, Any]:
        """``lstm`` (the network's key) and ``scaler`` (``[lo, hi]`` under series scaling)."""
        scaler = series.scaler
        return {"lstm": series.lstm, "scaler": [scaler.lo, scaler.hi] if scaler else None}

    def from_state(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Inverse of :meth:`to_state`."""
        scaler = raw.get("scaler")
        return {
            "lstm": raw.get("lstm"),
            "scaler": MinMax(float(scaler[0]), float(scaler[1])) if scaler else None,
        }


PROPHET, ARIMA, LSTM = ProphetComponent(), ArimaComponent(), LstmComponent()
#: every component, in canonical order (the one list)
COMPONENTS: tuple[Component, ...] = (PROPHET, ARIMA, LSTM)
#: their names, in the same order
NAMES: tuple[str, ...] = tuple(c.name for c in COMPONENTS)


def check_components(value: str | Iterable[str]) -> tuple[str, ...]:
    """A chosen set of components (FORECAST_COMPONENTS, a config's ``components``), checked.

    Args:
        value: comma-separated names, or the names.

    Returns:
        The names without blanks and repeats, in the order given.

    Raises:
        ValueError: an unknown name, or none.
    """
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    names = [part.strip() for part in parts if part.strip()]
    if not names or set(names) - set(NAMES):
        shown = value if isinstance(value, str) else ",".join(parts)
        raise ValueError(f"expected a subset of {','.join(NAMES)}, got {shown!r}")
    return tuple(dict.fromkeys(names))


def chosen(names: Iterable[str]) -> tuple[Component, ...]:
    """The components named in ``names``, in canonical order."""
    wanted = set(names)
    return tuple(c for c in COMPONENTS if c.name in wanted)
