"""PLACEHOLDER (replaced by nab-alarm's metrics_ai/alarm.py at merge): the alarm interface only.

The contract's interface with a trivial body, so the alerting client can be built and
tested before the real alarm with memory lands: the likelihood is an exponential
moving average of the served deviation scores, firing above ``fire`` until it falls
below ``clear``. Not tuned, not scored: do not ship.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlarmConfig:
    """Placeholder settings."""

    alpha: float = 0.3
    fire: float = 0.8
    clear: float = 0.5


@dataclass(frozen=True)
class AlarmState:
    """What the alarm says after one point."""

    likelihood: float  # [0, 1]
    firing: bool


class DeviationAlarm:
    """Stateful per entity; feed one served deviation score per NEW data point, in time order."""

    def __init__(self, config: AlarmConfig | None = None) -> None:
        self.config = config or AlarmConfig()
        self._level = 0.0
        self._firing = False

    def update(self, score: float) -> AlarmState:
        """Fold in one score in [0, 1]."""
        cfg = self.config
        self._level = (1 - cfg.alpha) * self._level + cfg.alpha * min(max(float(score), 0.0), 1.0)
        self._firing = self._level >= cfg.fire or (self._firing and self._level > cfg.clear)
        return AlarmState(self._level, self._firing)
