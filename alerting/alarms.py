"""One :class:`metrics_ai.alarm.DeviationAlarm` per forecast series, fed once per new point.

The served deviation score is memoryless; the alarm turns the sequence of scores (and
the latest values) into a likelihood with memory. Its durations are seconds: the bank
gives each alarm the step of the history the client sends (STEP), and the alarm counts
points from it. It must see each data point once, in time order: a pass
whose history ends where the last one did (Prometheus has nothing newer) reuses the
previous state instead of feeding the same point again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from metrics_ai.alarm import AlarmConfig, AlarmState, DeviationAlarm

Key = tuple[str, str]
"""(entity, signal)."""


@dataclass
class _Tracked:
    alarm: DeviationAlarm
    last_timestamp: float
    state: AlarmState


class AlarmBank:
    """The alarms of every (entity, signal) the client forecasts (owned by the loop)."""

    def __init__(self, step: float, config: AlarmConfig | None = None) -> None:
        """``step``: seconds between the points of the histories sent (the settings' STEP)."""
        self.step = step
        self.config = config
        self._alarms: dict[Key, _Tracked] = {}

    def update(self, key: Key, timestamp: float, score: float, value: float) -> AlarmState:
        """The alarm's state after the point at ``timestamp`` (its served score and value; fed only if new)."""
        tracked = self._alarms.get(key)
        if tracked is None:
            alarm = DeviationAlarm(self.config, self.step)
            tracked = self._alarms[key] = _Tracked(alarm, timestamp, alarm.update(score, value))
        elif timestamp > tracked.last_timestamp:
            tracked.state = tracked.alarm.update(score, value)
            tracked.last_timestamp = timestamp
        return tracked.state

    def retain(self, keys: Iterable[Key]) -> None:
        """Forget the alarms of series that no longer exist."""
        keep = set(keys)
        for key in [k for k in self._alarms if k not in keep]:
            del self._alarms[key]

    def __len__(self) -> int:
        return len(self._alarms)
