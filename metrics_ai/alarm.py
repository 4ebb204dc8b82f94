"""The deviation alarm with memory: from resource-forecast's per-point deviation to a page.

The served ``deviation.score`` judges one point against the one-step forecast made
before it, with no memory: wired straight to a page it fires on every noisy point
(docs/BENCHMARKS.md, NAB section). :class:`DeviationAlarm` keeps, per series, a little
state over what it is fed, one ``(score, value)`` per new data point in time order,
and starts an alarm on either of two surprises:

1. **A deviation unlike the last day's.** The served score is turned back into the
   deviation it squashes (``-ln(1 - score)``: the distance from the forecast in units of
   two critical bands) and averaged over ``short_window_seconds``. Its *likelihood* is
   the share of the short means of the ``reference_seconds`` before that lie below it
   (an empirical, Numenta-style anomaly likelihood: near 1 when the deviation is
   unusually large *for this series*; a noisy series raises its own bar). An alarm
   starts when the short mean passes the reference's largest by ``record_margin``
   (and at least one critical band).
2. **A value outside the recent range** (NAB's HTM detector calls it a spatial anomaly):
   the value passes the lowest or highest value of the ``range_window_seconds`` before it
   by more than ``range_margin`` times their spread; the likelihood is then 1.

**Onset, hold, refractory.** ``onset`` is true at the point a new alarm starts, unless
one started in the ``refractory_seconds`` before: one incident pages once, and that is
what NAB scores. ``firing`` is true from an onset for ``hold_seconds``, so the exported
gauge stays 1 long enough to be scraped and for an alert rule's ``for:`` to pass: keep
``hold_seconds`` above the rule's ``for:`` plus a scrape interval plus the client's pass
interval (the defaults: 3600 s against ``for: 2m``, 30 s scrapes and 60 s passes).

Durations are in seconds; the alarm is given the series' step (seconds between points)
and counts ``max(1, round(seconds / step))`` points, so the same settings mean the same
time on a 60 s step as on a 300 s one. Nothing fires before ``min_history_seconds`` of
points (the likelihood is 0.5 until then). Each update is O(log n) plus one sorted insert
into the reference. Pure stdlib.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, fields

#: deviations below this (``-ln(1 - score)``; 0.5 is one critical band) never start an alarm: a flat
#: series (a reference of zeros) does not page on its first rounding-sized deviation
MIN_DEVIATION = 0.25
#: largest served score taken (``-ln(1e-12)`` = 27.6 units)
_TOP = 1.0 - 1e-12


@dataclass(frozen=True)
class AlarmConfig:
    """Settings of :class:`DeviationAlarm`; the defaults are the frozen, benchmarked ones.

    Chosen by leave-one-file-out cross-validation on NAB files (docs/BENCHMARKS.md,
    "The deviation alarm"). Durations are seconds of series time.

    Attributes:
        short_window_seconds: deviations averaged into the short mean.
        reference_seconds: the short means before it that make the reference.
        record_margin: share by which the short mean must pass the reference's largest.
        range_window_seconds: values whose range a new value must leave (0: off).
        range_margin: share of that range the value must pass its edge by.
        min_history_seconds: series time seen before the alarm can start.
        refractory_seconds: no new onset within this long after one.
        hold_seconds: ``firing`` stays true this long from an onset (at least one point).
    """

    short_window_seconds: float = 900.0
    reference_seconds: float = 86_400.0
    record_margin: float = 0.5
    range_window_seconds: float = 2_592_000.0
    range_margin: float = 0.0
    min_history_seconds: float = 86_400.0
    refractory_seconds: float = 86_400.0
    hold_seconds: float = 3_600.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{f.name}: must be a finite number, got {value!r}")
            if value < 0:
                raise ValueError(f"{f.name}: must be >= 0, got {value!r}")
        for name in ("short_window_seconds", "reference_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0 seconds, got {getattr(self, name)!r}")
        for name in ("record_margin", "range_margin"):
            if getattr(self, name) > 10:
                raise ValueError(f"{name}: must be in [0, 10], got {getattr(self, name)!r}")


@dataclass(frozen=True)
class AlarmState:
    """What one update concluded."""

    likelihood: float
    """[0, 1]: near 1 when the latest deviation or value is unusual for this series"""
    onset: bool
    """a new alarm starts at this point (what pages, and what NAB scores)"""
    firing: bool
    """within ``hold_seconds`` of the latest onset (what the exported gauge shows)"""


def points(seconds: float, step: float) -> int:
    """``seconds`` of series time as a count of points ``step`` seconds apart (at least 1)."""
    return max(1, round(seconds / step))


class _SortedWindow:
    """The last ``size`` values, also kept sorted (largest and rank in O(1) / O(log n))."""

    def __init__(self, size: int) -> None:
        self.recent: deque[float] = deque()
        self.sorted: list[float] = []
        self.size = size

    def push(self, value: float) -> None:
        self.recent.append(value)
        bisect.insort(self.sorted, value)
        if len(self.recent) > self.size:
            del self.sorted[bisect.bisect_left(self.sorted, self.recent.popleft())]

    def below(self, value: float) -> float:
        """Share of the values below ``value`` (0.5 when empty)."""
        return bisect.bisect_left(self.sorted, value) / len(self.sorted) if self.sorted else 0.5


class _Deviation:
    """Short mean of the deviation against the short means of the reference before it."""

    def __init__(self, short: int, reference: int, margin: float) -> None:
        self._short: deque[float] = deque()
        self._size = short
        self._total = 0.0
        self._pending: deque[float] = deque()  # short means not yet old enough for the reference
        self._reference = _SortedWindow(reference)
        self._margin = margin

    def update(self, score: float) -> tuple[float, bool]:
        """``(likelihood, record)`` of the short mean ending with ``score``."""
        self._short.append(-math.log1p(-min(max(score, 0.0), _TOP)))
        self._total += self._short[-1]
        if len(self._short) > self._size:
            self._total -= self._short.popleft()
        mean = max(self._total / len(self._short), 0.0)
        ref = self._reference.sorted
        record = bool(ref) and mean > max((1.0 + self._margin) * ref[-1], MIN_DEVIATION)
        likelihood = self._reference.below(mean)
        # the reference only holds short means that share no deviation with the current one
        self._pending.append(mean)
        if len(self._pending) > self._size:
            self._reference.push(self._pending.popleft())
        return likelihood, record


class _Range:
    """Lowest and highest value of a sliding window (monotonic queues: O(1) amortised)."""

    def __init__(self, size: int, margin: float) -> None:
        self._size, self._margin, self._index = size, margin, 0
        self._low: deque[tuple[int, float]] = deque()
        self._high: deque[tuple[int, float]] = deque()

    def update(self, value: float) -> bool:
        """Whether ``value`` passes the window's edge by more than the margin; then it joins the window."""
        beyond = False
        if self._low:
            low, high = self._low[0][1], self._high[0][1]
            reach = self._margin * (high - low)
            beyond = value > high + reach or value < low - reach
        self._index += 1
        while self._low and self._low[-1][1] >= value:
            self._low.pop()
        while self._high and self._high[-1][1] <= value:
            self._high.pop()
        self._low.append((self._index, value))
        self._high.append((self._index, value))
        for queue in (self._low, self._high):
            if queue[0][0] <= self._index - self._size:
                queue.popleft()
        return beyond


class DeviationAlarm:
    """Stateful per series; feed one ``(score, value)`` per NEW data point, in time order.

    Args:
        config: the settings (default: the shipped ones).
        step: seconds between the series' points (the alerting client's STEP; NAB's 300).
    """

    def __init__(self, config: AlarmConfig | None = None, step: float = 60.0) -> None:
        if isinstance(step, bool) or not isinstance(step, int | float) or not math.isfinite(step) or step <= 0:
            raise ValueError(f"step: must be a positive number of seconds, got {step!r}")
        cfg = self.config = config or AlarmConfig()
        self.step = float(step)
        short = points(cfg.short_window_seconds, step)
        self._deviation = _Deviation(short, points(cfg.reference_seconds, step), cfg.record_margin)
        self._range = _Range(points(cfg.range_window_seconds, step), cfg.range_margin)
        self._min_history = max(points(cfg.min_history_seconds, step), 2 * short)
        self._refractory = points(cfg.refractory_seconds, step)
        self._hold = points(cfg.hold_seconds, step)
        self._seen = 0
        self._last_onset: int | None = None

    def update(self, score: float | None, value: float | None = None) -> AlarmState:
        """Take the next point's served score and value (missing or NaN: score 0, value skipped)."""
        self._seen += 1
        likelihood, hot = self._deviation.update(_finite(score, 0.0))
        v = _finite(value, math.nan)
        if self.config.range_window_seconds > 0 and math.isfinite(v) and self._range.update(v):
            likelihood, hot = 1.0, True
        if self._seen < self._min_history:
            return AlarmState(0.5, False, False)
        quiet = self._last_onset is not None and self._seen - self._last_onset < self._refractory
        onset = hot and not quiet
        if onset:
            self._last_onset = self._seen
        firing = self._last_onset is not None and self._seen - self._last_onset < self._hold
        return AlarmState(likelihood, onset, firing)


def _finite(x: float | None, default: float) -> float:
    """``x`` as a float, or ``default`` when missing or not finite."""
    if x is None:
        return default
    f = float(x)
    return f if math.isfinite(f) else default
