"""Calibrated forecast intervals and the deviation check of resource-forecast.

Intervals are split-conformal: the half-width at horizon step h is the
``level`` quantile of the ensemble's absolute calibration errors at step h (with the
finite-sample correction), measured in units of the series' recent mean |one-step
change| (normalised conformal: the width follows the current volatility, which keeps
coverage when a series changes regime), so an 80 % interval covers about 80 % of
held-out points; the trainer measures the coverage on the test tail and records it.

The deviation check (the original I/O ensemble's) compares the latest value with
the one-step-ahead forecast made just before it: it is a deviation when it is both
absolutely large (a multiple of the calibrated one-step half-width) and relatively
large (a percentage of the forecast), or, with ``mode="either"`` (the original's
absolute-OR-percentage test), when it is one of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def conformal_halfwidth(abs_errors: np.ndarray, level: float = 0.8) -> np.ndarray:
    """Per-step half-widths ``[H]`` from absolute errors ``[N, H]`` (NaN rows ignored)."""
    errors = np.asarray(abs_errors, dtype=np.float64)
    out = np.zeros(errors.shape[1])
    for h in range(errors.shape[1]):
        col = errors[:, h][np.isfinite(errors[:, h])]
        if col.size == 0:
            continue
        q = min(1.0, np.ceil((col.size + 1) * level) / col.size)
        out[h] = float(np.quantile(col, q, method="higher"))
    return out


def coverage(errors: np.ndarray, halfwidth: np.ndarray) -> float:
    """Share of forecast errors ``[N, H]`` inside ``+- halfwidth`` (``[H]`` or ``[N, H]``)."""
    errors = np.asarray(errors, dtype=np.float64)
    ok = np.isfinite(errors)
    if not ok.any():
        return float("nan")
    return float((np.abs(errors) <= np.broadcast_to(halfwidth, errors.shape))[ok].mean())


@dataclass(frozen=True, slots=True)
class DeviationRule:
    """Thresholds of the deviation check and how its two tests join.

    Attributes:
        warning_k / critical_k: |actual - forecast| above this many one-step 80 %
            half-widths.
        warning_pct / critical_pct: ... and (``mode="both"``) or (``mode="either"``) above
            this percentage of |forecast|.
        mode: ``"both"`` (the default) or ``"either"`` (the original's OR).
    """

    warning_k: float = 1.5
    critical_k: float = 3.0
    warning_pct: float = 10.0
    critical_pct: float = 25.0
    mode: str = "both"

    def _exceeds(self, dev: float, band: float, pct: float, k: float, limit: float) -> bool:
        absolute, relative = dev > k * band, pct > limit
        return (absolute or relative) if self.mode == "either" else (absolute and relative)

    def check(self, actual: float, expected: float, halfwidth: float) -> dict[str, Any]:
        """``{"is_anomaly", "score", "severity", ...}`` for the latest value.

        ``score`` grows with the absolute deviation ``d`` without saturating early:
        ``1 - exp(-d / (2 x critical band))`` (0 for none, 0.39 at the critical band, 0.63
        at twice it, 0.92 at five times). It used to be ``d / critical band`` capped at 1;
        that cap made a point at 3 and one at 30 half-widths the same, and the alarm with
        memory (:mod:`metrics_ai.alarm`) scored far worse on it (docs/BENCHMARKS.md).
        """
        dev = abs(float(actual) - float(expected))
        if dev <= 1e-9 * max(abs(float(actual)), abs(float(expected)), 1.0):
            dev = 0.0  # rounding noise (a flat series against a forecast a hair off it) is no deviation
        band = max(float(halfwidth), 1e-12)
        pct = 100.0 * dev / max(abs(float(expected)), 1e-12)
        if self._exceeds(dev, band, pct, self.critical_k, self.critical_pct):
            severity = "CRITICAL"
        elif self._exceeds(dev, band, pct, self.warning_k, self.warning_pct):
            severity = "WARNING"
        else:
            severity = "INFO"
        return {
            "is_anomaly": severity != "INFO",
            "score": float(-np.expm1(-dev / (2.0 * self.critical_k * band))),
            "severity": severity,
            "actual": float(actual),
            "expected": float(expected),
            "deviation_pct": float(min(pct, 1e9)),
        }
