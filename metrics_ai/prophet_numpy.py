"""A fitted Prophet model as plain arrays, evaluated in NumPy.

The predictor image never imports prophet: the training side exports a fitted model
with ``training.prophet_export.export_prophet`` and serving evaluates the MAP point
forecast here (``yhat`` of ``Prophet.predict`` with ``uncertainty_samples=0``).

Supported: linear or flat growth, any number of seasonalities (additive or
multiplicative, optionally conditional), extra regressors (additive or
multiplicative), ``absmax`` or ``minmax`` scaling. Not supported (the exporter
refuses them): logistic growth, holidays, MCMC samples.

Timestamps are unix seconds (UTC). Prophet itself sees them as timezone-naive UTC
datetimes, so "days since 1970-01-01" is exactly ``t / 86400`` in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

_DAY = 86400.0


@dataclass(frozen=True)
class Seasonality:
    """One Fourier seasonality: period in days, its coefficients and mode."""

    name: str
    period: float
    fourier_order: int
    mode: str  # "additive" | "multiplicative"
    beta: np.ndarray  # [2 * fourier_order], sin/cos interleaved as Prophet orders them
    condition_name: str | None = None


@dataclass(frozen=True)
class Regressor:
    """One extra regressor: standardisation, coefficient and mode."""

    name: str
    mu: float
    std: float
    mode: str
    beta: float


@dataclass
class ProphetState:
    """Everything needed to compute Prophet's ``yhat`` for any timestamps.

    Attributes:
        growth: "linear" or "flat".
        k: initial slope (scaled units per scaled time).
        m: initial offset (scaled units).
        delta: slope changes at the changepoints.
        changepoints_t: changepoints in scaled time [0, 1].
        start: unix seconds of the first training timestamp.
        t_scale: seconds spanned by the training data.
        y_scale: scale of y; floor: the offset removed before scaling (0 for absmax).
        seasonalities, regressors: the seasonal and regression terms.
        residual_std: std of in-sample residuals (for intervals).
    """

    growth: str
    k: float
    m: float
    delta: np.ndarray
    changepoints_t: np.ndarray
    start: float
    t_scale: float
    y_scale: float
    floor: float = 0.0
    seasonalities: list[Seasonality] = field(default_factory=list)
    regressors: list[Regressor] = field(default_factory=list)
    residual_std: float = 0.0

    def trend(self, t: np.ndarray) -> np.ndarray:
        """The trend at unix seconds ``t`` (original units)."""
        ts = (np.asarray(t, dtype=np.float64) - self.start) / self.t_scale
        if self.growth == "flat":
            scaled = np.full_like(ts, self.m)
        else:
            # Cumulative slope/offset per segment, then one searchsorted: O(T + C).
            k_seg = self.k + np.concatenate(([0.0], np.cumsum(self.delta)))
            m_seg = self.m + np.concatenate(([0.0], np.cumsum(-self.delta * self.changepoints_t)))
            seg = np.searchsorted(self.changepoints_t, ts, side="right")
            scaled = k_seg[seg] * ts + m_seg[seg]
        return scaled * self.y_scale + self.floor

    def components(
        self, t: np.ndarray, regressors: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Trend, additive and multiplicative terms, and ``yhat`` at unix seconds ``t``.

        Args:
            t: unix seconds, float64 [T].
            regressors: values for every extra regressor (raw, unstandardised) and
                every seasonality condition (booleans), each [T].

        Returns:
            ``trend``, ``seasonal`` (everything that is not trend, in original units,
            i.e. ``yhat - trend``), ``additive``, ``multiplicative``, ``yhat``.

        Raises:
            KeyError: a regressor or condition the model needs is missing.
        """
        t = np.asarray(t, dtype=np.float64)
        regressors = regressors or {}
        trend = self.trend(t)
        additive = np.zeros_like(t)
        multiplicative = np.zeros_like(t)
        days = t / _DAY
        for s in self.seasonalities:
            orders = np.arange(1, s.fourier_order + 1, dtype=np.float64)
            arg = (2.0 * np.pi / s.period) * days[:, None] * orders[None, :]
            feats = np.empty((t.size, 2 * s.fourier_order))
            feats[:, 0::2] = np.sin(arg)
            feats[:, 1::2] = np.cos(arg)
            term = feats @ s.beta
            if s.condition_name is not None:
                term = term * np.asarray(regressors[s.condition_name], dtype=bool)
            if s.mode == "additive":
                additive += term
            else:
                multiplicative += term
        for r in self.regressors:
            x = (np.asarray(regressors[r.name], dtype=np.float64) - r.mu) / r.std
            if r.mode == "additive":
                additive += x * r.beta
            else:
                multiplicative += x * r.beta
        additive = additive * self.y_scale
        yhat = trend * (1.0 + multiplicative) + additive
        return {
            "trend": trend,
            "seasonal": yhat - trend,
            "additive": additive,
            "multiplicative": multiplicative,
            "yhat": yhat,
        }

    def predict(self, t: np.ndarray, regressors: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """``yhat`` at unix seconds ``t`` (see :meth:`components` for ``regressors``)."""
        return self.components(t, regressors)["yhat"]

    @property
    def regressor_names(self) -> list[str]:
        """Names the ``regressors`` argument must provide."""
        names = [r.name for r in self.regressors]
        names += [s.condition_name for s in self.seasonalities if s.condition_name]
        return names

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (floats and lists only)."""
        return {
            "growth": self.growth,
            "k": float(self.k),
            "m": float(self.m),
            "delta": [float(x) for x in self.delta],
            "changepoints_t": [float(x) for x in self.changepoints_t],
            "start": float(self.start),
            "t_scale": float(self.t_scale),
            "y_scale": float(self.y_scale),
            "floor": float(self.floor),
            "residual_std": float(self.residual_std),
            "seasonalities": [
                {
                    "name": s.name,
                    "period": float(s.period),
                    "fourier_order": int(s.fourier_order),
                    "mode": s.mode,
                    "beta": [float(x) for x in s.beta],
                    "condition_name": s.condition_name,
                }
                for s in self.seasonalities
            ],
            "regressors": [
                {
                    "name": r.name,
                    "mu": float(r.mu),
                    "std": float(r.std),
                    "mode": r.mode,
                    "beta": float(r.beta),
                }
                for r in self.regressors
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProphetState:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: the dict is not a ProphetState (missing key, bad shape).
        """
        try:
            seas = [
                Seasonality(
                    name=str(s["name"]),
                    period=float(s["period"]),
                    fourier_order=int(s["fourier_order"]),
                    mode=str(s["mode"]),
                    beta=np.asarray(s["beta"], dtype=np.float64),
                    condition_name=s.get("condition_name"),
                )
                for s in d.get("seasonalities", [])
            ]
            regs = [
                Regressor(
                    str(r["name"]),
                    float(r["mu"]),
                    float(r["std"]),
                    str(r["mode"]),
                    float(r["beta"]),
                )
                for r in d.get("regressors", [])
            ]
            state = cls(
                growth=str(d["growth"]),
                k=float(d["k"]),
                m=float(d["m"]),
                delta=np.asarray(d["delta"], dtype=np.float64),
                changepoints_t=np.asarray(d["changepoints_t"], dtype=np.float64),
                start=float(d["start"]),
                t_scale=float(d["t_scale"]),
                y_scale=float(d["y_scale"]),
                floor=float(d.get("floor", 0.0)),
                seasonalities=seas,
                regressors=regs,
                residual_std=float(d.get("residual_std", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a ProphetState: {exc!r}") from exc
        if state.growth not in ("linear", "flat"):
            raise ValueError(f"unsupported growth {state.growth!r}")
        if state.delta.shape != state.changepoints_t.shape:
            raise ValueError("delta and changepoints_t differ in length")
        for s in seas:
            if s.beta.shape != (2 * s.fourier_order,):
                raise ValueError(f"seasonality {s.name!r}: beta has the wrong length")
        return state


def calendar_regressors(t: np.ndarray) -> dict[str, np.ndarray]:
    """The ``hour`` (0-23, UTC) and ``is_weekend`` (0/1) regressors at unix seconds ``t``.

    The one definition used both when fitting (training) and when evaluating a
    :class:`ProphetState` (serving), so the two always agree.
    """
    t = np.asarray(t, dtype=np.float64)
    days = np.floor(t / _DAY)
    hour = np.floor((t - days * _DAY) / 3600.0)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return {"hour": hour, "is_weekend": (weekday >= 5).astype(np.float64)}
