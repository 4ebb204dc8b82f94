"""ARIMA(p, 1, 0) forecasts in NumPy from fitted parameters (no re-estimation).

With one difference and no moving-average part, the model is an AR(p) recursion on
``d_t = y_t - y_{t-1}``::

    d_{T+h} = phi_1 d_{T+h-1} + ... + phi_p d_{T+h-p}
    y_{T+h} = y_{T+h-1} + d_{T+h}

Once ``p + 1`` observations are known, the Kalman-filtered state of statsmodels'
``ARIMA(order=(p, 1, 0))`` equals these last differences exactly, so filtering fresh
history forward with the fitted parameters is this recursion: statsmodels'
``res.apply(new).forecast(h)`` and :meth:`ArimaState.forecast` agree to rounding
(tests/metrics_ai/test_forecast_arima.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class ArimaState:
    """Fitted AR coefficients of an ARIMA(p, 1, 0) without trend (statsmodels' default)."""

    ar: tuple[float, ...]
    sigma2: float = 1.0

    @property
    def min_points(self) -> int:
        """Observations needed to forecast: p + 1."""
        return len(self.ar) + 1

    def forecast(self, y: np.ndarray, steps: int) -> np.ndarray:
        """Forecast ``steps`` points after the end of each row of ``y``.

        Args:
            y: ``[T]`` or ``[N, T]`` observations (only the last p + 1 are read).
            steps: horizon in points.

        Returns:
            ``[steps]`` or ``[N, steps]`` point forecasts.
        """
        y = np.asarray(y, dtype=np.float64)
        rows = y.reshape(-1, y.shape[-1])
        p = len(self.ar)
        if rows.shape[1] < p + 1:
            raise ValueError(f"ARIMA({p},1,0) needs {p + 1} points, got {rows.shape[1]}")
        diffs = np.diff(rows[:, -(p + 1) :], axis=1)[:, ::-1]  # newest first
        level = rows[:, -1].copy()
        phi = np.asarray(self.ar, dtype=np.float64)
        out = np.empty((rows.shape[0], steps))
        for h in range(steps):
            step = diffs @ phi if p else np.zeros(rows.shape[0])
            level = level + step
            out[:, h] = level
            if p:
                diffs = np.concatenate([step[:, None], diffs[:, :-1]], axis=1)
        return out if y.ndim > 1 else out[0]

    def forecast_at(self, y: np.ndarray, cuts: np.ndarray, steps: int) -> np.ndarray:
        """Backtest helper: forecasts made with ``y[: c + 1]`` for each index ``c`` in ``cuts``."""
        p = len(self.ar)
        offsets = np.arange(-p, 1)
        windows = np.asarray(y, dtype=np.float64)[np.asarray(cuts)[:, None] + offsets]
        return self.forecast(windows, steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {"order": [len(self.ar), 1, 0], "ar": list(self.ar), "sigma2": self.sigma2}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ArimaState:
        """Inverse of :meth:`to_dict`."""
        order = raw.get("order", [len(raw["ar"]), 1, 0])
        if list(order)[1:] != [1, 0] or int(order[0]) != len(raw["ar"]):
            raise ValueError(f"unsupported ARIMA order {order}; expected (p, 1, 0)")
        return cls(tuple(float(a) for a in raw["ar"]), float(raw.get("sigma2", 1.0)))

    @classmethod
    def pooled(cls, states: list[ArimaState]) -> ArimaState:
        """Element-wise median of several fits (the fallback for unseen entities)."""
        if not states:
            return cls((0.0,) * 2)
        ar = np.median(np.asarray([s.ar for s in states]), axis=0)
        return cls(tuple(float(a) for a in ar), float(np.median([s.sigma2 for s in states])))
