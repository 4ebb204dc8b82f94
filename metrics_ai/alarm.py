"""The deviation alarm with memory: from resource-forecast's per-point deviation score to a page.

The served ``deviation.score`` judges one point against the one-step forecast made
before it, with no memory: wired straight to a page it fires on every noisy point
(docs/BENCHMARKS.md, NAB section). :class:`DeviationAlarm` keeps, per entity, a little
state over the scores fed to it, one per new data point in time order:

1. **Anomaly likelihood** (after Numenta's, Ahmad et al. 2017): the mean of the last
   ``short_window`` scores is compared with the distribution (mean, standard deviation)
   of such short means over the ``long_window`` points before them; the likelihood is
   the Gaussian probability of a short mean no larger than this one, ``Phi(z)``, so it
   is near 1 only when recent deviations are unusually large *for this series*. A noisy
   series whose deviations are often high raises its own bar; a quiet one alarms on less.
2. **Hysteresis and minimum duration**: the alarm fires once the likelihood has been at
   or above ``fire_likelihood`` for ``min_duration`` consecutive points, and clears when
   it falls below ``clear_likelihood`` (or after ``max_firing`` points at most).
3. **Refractory period**: after it clears, it cannot fire again for ``refractory`` points,
   so one incident pages once.

The shipped defaults fire as a pulse (``max_firing=1``: one point, one page, then 12 hours
of refractory on a 5-minute step) on a short mean of 3 points against the last 1.5 days:
NAB, like a pager, charges every alarming point outside an incident, and holding the alarm
while the likelihood stays above ``clear_likelihood`` (hysteresis) scored lower
(docs/BENCHMARKS.md, "The deviation alarm"); the hysteresis stays available for callers
that want an alert held while the deviation lasts (``max_firing=0``).

For alert rules: with the defaults ``firing`` is true for one data point (until the next
point's update), so a rule on ``metrics_ai_forecast_deviation_alarm == 1`` needs
``for: 0m`` (a longer ``for:`` would never see it hold); ``keep_firing_for`` can keep the
alert visible for a while after.

Until ``min_history`` scores have been seen the likelihood is 0.5 and nothing fires.
Each update is O(1): running sums over two ring buffers, no refit. Pure stdlib.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class AlarmConfig:
    """Settings of :class:`DeviationAlarm`; the defaults are the frozen, benchmarked ones.

    Lengths are in data points (one served score per new point: 5 minutes on a 300 s step).
    The defaults were chosen on five NAB files and then scored, unchanged, on five others
    (docs/BENCHMARKS.md, "The deviation alarm").

    Attributes:
        short_window: scores averaged into the short mean.
        long_window: past short means whose mean and deviation make the reference.
        min_history: scores needed before the alarm can fire (``>= short_window + 2``).
        fire_likelihood: likelihood at or above which a point counts towards firing.
        clear_likelihood: likelihood below which a firing alarm clears (``<= fire_likelihood``).
        min_duration: consecutive points at or above ``fire_likelihood`` before firing.
        max_firing: longest a single firing lasts, in points (0: no limit).
        refractory: points after clearing during which it cannot fire again.
        min_std: floor of the reference's standard deviation (scores are in [0, 1]), so a
            series whose deviations were all zero does not fire on the first tiny one.
    """

    short_window: int = 3
    long_window: int = 432
    min_history: int = 288
    fire_likelihood: float = 0.9999
    clear_likelihood: float = 0.999
    min_duration: int = 1
    max_firing: int = 1
    refractory: int = 144
    min_std: float = 0.02

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{f.name}: must be a finite number, got {value!r}")
        for name in ("short_window", "long_window", "min_duration"):
            if getattr(self, name) < 1 or not isinstance(getattr(self, name), int):
                raise ValueError(f"{name}: must be an integer >= 1, got {getattr(self, name)!r}")
        for name in ("max_firing", "refractory"):
            if getattr(self, name) < 0 or not isinstance(getattr(self, name), int):
                raise ValueError(f"{name}: must be an integer >= 0, got {getattr(self, name)!r}")
        if not isinstance(self.min_history, int) or self.min_history < self.short_window + 2:
            raise ValueError(f"min_history: must be an integer >= short_window + 2, got {self.min_history!r}")
        if not 0.5 < self.fire_likelihood < 1.0:
            raise ValueError(f"fire_likelihood: must be in (0.5, 1), got {self.fire_likelihood!r}")
        if not 0.5 <= self.clear_likelihood <= self.fire_likelihood:
            raise ValueError(f"clear_likelihood: must be in [0.5, fire_likelihood], got {self.clear_likelihood!r}")
        if not 0.0 < self.min_std < 1.0:
            raise ValueError(f"min_std: must be in (0, 1), got {self.min_std!r}")


@dataclass(frozen=True)
class AlarmState:
    """What one update concluded."""

    likelihood: float
    """[0, 1]: near 1 when recent deviations are unusually large for this series"""
    firing: bool


def normal_cdf(z: float) -> float:
    """Standard normal ``P(Z <= z)``."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


class _Window:
    """Ring buffer with a running sum and sum of squares, resummed every ``size`` pushes.

    The resum (O(size) once per ``size`` updates, so O(1) amortised) keeps the rounding
    of months of add/subtract from drifting the mean and variance.
    """

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque()
        self.size = size
        self.total = 0.0
        self.squares = 0.0
        self._pushes = 0

    def push(self, value: float) -> None:
        self.values.append(value)
        self.total += value
        self.squares += value * value
        if len(self.values) > self.size:
            old = self.values.popleft()
            self.total -= old
            self.squares -= old * old
        self._pushes += 1
        if self._pushes % self.size == 0:
            self.total = math.fsum(self.values)
            self.squares = math.fsum(v * v for v in self.values)

    def mean(self) -> float:
        return self.total / len(self.values)

    def std(self) -> float:
        n = len(self.values)
        mean = self.total / n
        return math.sqrt(max(self.squares / n - mean * mean, 0.0))


class DeviationAlarm:
    """Stateful per entity; feed one served deviation score per NEW data point, in time order."""

    def __init__(self, config: AlarmConfig | None = None) -> None:
        self.config = config or AlarmConfig()
        self._short = _Window(self.config.short_window)
        self._long = _Window(self.config.long_window)
        self._pending: deque[float] = deque()  # short means not yet old enough for the reference
        self._seen = 0
        self._streak = 0
        self._firing_for = 0
        self._quiet_until = 0

    def likelihood(self, short_mean: float) -> float:
        """Probability of a short mean no larger than ``short_mean`` under the reference."""
        if self._seen < self.config.min_history or not self._long.values:
            return 0.5
        std = max(self._long.std(), self.config.min_std)
        return normal_cdf((short_mean - self._long.mean()) / std)

    def update(self, score: float) -> AlarmState:
        """Take the next score (NaN or None: no answer for this point, counted as 0)."""
        cfg = self.config
        value = float(score) if score is not None and math.isfinite(float(score)) else 0.0
        self._short.push(min(max(value, 0.0), 1.0))
        self._seen += 1
        short_mean = self._short.mean()
        like = self.likelihood(short_mean)
        # the reference only holds short means that share no score with the current one
        self._pending.append(short_mean)
        if len(self._pending) > cfg.short_window:
            self._long.push(self._pending.popleft())
        return AlarmState(like, self._decide(like))

    def _decide(self, like: float) -> bool:
        cfg = self.config
        self._streak = self._streak + 1 if like >= cfg.fire_likelihood else 0
        if self._firing_for:
            over = cfg.max_firing and self._firing_for >= cfg.max_firing
            if like < cfg.clear_likelihood or over:
                self._firing_for = 0
                self._quiet_until = self._seen + cfg.refractory
                return False
            self._firing_for += 1
            return True
        if self._streak >= cfg.min_duration and self._seen > self._quiet_until:
            self._firing_for = 1
            return True
        return False
