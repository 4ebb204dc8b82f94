"""Filesystem fills with known threshold-crossing times (tests and benchmarks of disk-eta).

Each case is a noise-free usage curve defined for past *and* future, sampled over
``days`` up to ``end`` with noise added; the true crossing is found on the clean
curve (1-minute resolution, up to 90 days ahead), so an estimate can be scored
against it. Shapes follow what disks really do: a steady fill, nightly log rotation
(a sawtooth on a slow trend), a deploy step then nothing, accelerating growth, a
clean-up (shrinking), a disk already full, and a flat disk with noisy readings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

DAY = 86400.0
SHAPES: tuple[str, ...] = (
    "steady",
    "sawtooth",
    "step_flat",
    "accelerating",
    "shrinking",
    "full",
    "noisy_flat",
)
DEFAULT_END = pd.Timestamp("2026-11-16 12:00", tz="UTC")


@dataclass(frozen=True)
class DiskCase:
    """One synthetic disk: samples, and when its clean curve first reaches the threshold."""

    shape: str
    timestamps: np.ndarray  # unix seconds, increasing
    values: np.ndarray  # used percent
    threshold: float
    eta_days: float | None  # from the last sample; 0 when already full, None when never (90 d)

    def history(self) -> dict[str, list[float]]:
        """As a request's ``history`` object."""
        return {"timestamps": self.timestamps.tolist(), "values": self.values.tolist()}


def _curve(
    shape: str,
    end: float,
    days: float,
    threshold: float,
    eta_days: float,
    step_days: float,
    rng: np.random.Generator,
) -> Callable[[np.ndarray], np.ndarray]:
    """The clean usage curve of a shape; ``eta_days`` tunes the ones that cross."""
    if shape == "steady":
        level = rng.uniform(55, 75)
        rate = (threshold - level) / eta_days
        return lambda t: level + rate * (t - end) / DAY
    if shape == "sawtooth":  # logs grow all day, rotation at 00:00 UTC frees them
        amp = rng.uniform(6, 10)
        trend = rng.uniform(1.0, 2.0)
        # peak just before midnight reaches the threshold after ~eta_days
        base = threshold - amp - trend * eta_days
        return lambda t: base + trend * (t - end) / DAY + amp * ((t % DAY) / DAY)
    if shape == "step_flat":  # a deploy lands a big image step_days before the end, then nothing
        level, jump = rng.uniform(40, 55), rng.uniform(10, 20)
        return lambda t: level + np.where(t > end - step_days * DAY, jump, 0.0)
    if shape == "accelerating":  # u(s) = L + r s + acc s^2 / 2, s in days from the end
        # growth doubled over the window: the rate at its start is half of today's, r = 2 acc days
        level = rng.uniform(55, 62)
        acc = (threshold - level) / (2.0 * days * eta_days + 0.5 * eta_days**2)
        rate = 2.0 * acc * days
        return lambda t: level + rate * (t - end) / DAY + 0.5 * acc * ((t - end) / DAY) ** 2
    if shape == "shrinking":  # a clean-up job deletes faster than anything writes
        level = rng.uniform(55, 70)
        return lambda t: level - 1.5 * (t - end) / DAY
    if shape == "full":
        level = threshold + rng.uniform(0.5, 4)
        return lambda t: level + 0.3 * (t - end) / DAY
    if shape == "noisy_flat":
        level = rng.uniform(50, 70)
        return lambda t: np.full_like(np.asarray(t, dtype=np.float64), level)
    raise ValueError(f"unknown disk shape {shape!r}; expected one of {SHAPES}")


def disk_case(
    shape: str,
    days: float = 7.0,
    step: int = 300,
    threshold: float = 90.0,
    eta_days: float = 5.0,
    seed: int = 0,
    end: pd.Timestamp = DEFAULT_END,
    step_days: float = 3.0,
) -> DiskCase:
    """Sample one disk of ``shape`` over ``days`` at ``step`` seconds, ending at ``end``.

    Args:
        eta_days: where the shape crosses (steady, sawtooth, accelerating), the days
            from the last sample to the crossing of the clean curve.
        seed: noise and shape parameters.
        step_days: step_flat only, how long before the end the deploy's step lands.
    """
    rng = np.random.default_rng(seed)
    t_end = float(end.timestamp())
    curve = _curve(shape, t_end, days, threshold, eta_days, step_days, rng)
    t = t_end - np.arange(int(days * DAY / step))[::-1] * float(step)
    noise_sd = 1.5 if shape == "noisy_flat" else 0.05
    values = np.clip(curve(t) + noise_sd * rng.normal(size=t.size), 0.0, 100.0)
    return DiskCase(shape, t, values, threshold, true_eta_days(curve, t_end, threshold))


def true_eta_days(
    curve: Callable[[np.ndarray], np.ndarray],
    t_end: float,
    threshold: float,
    horizon_days: float = 90,
) -> float | None:
    """Days after ``t_end`` until ``curve`` first reaches ``threshold`` (1-minute resolution)."""
    grid = t_end + np.arange(0.0, horizon_days * DAY, 60.0)
    above = np.flatnonzero(curve(grid) >= threshold)
    return None if above.size == 0 else float(above[0] * 60.0 / DAY)
