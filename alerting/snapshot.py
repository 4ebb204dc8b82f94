"""What the exporter serves: one immutable snapshot per pass, plus the client's own health.

A pass builds a new :class:`Snapshot` and the exporter swaps it in whole, so a scrape
sees one pass or the next, never a mix; series not in the new snapshot (a vanished
entity, a failed model) are gone, never left with old values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from alerting.gauges import Sample
from alerting.settings import MODELS

OUTCOMES: tuple[str, ...] = ("success", "partial", "failed")
PROMETHEUS = "prometheus"
"""The errors_total label of Prometheus failures (the others are model names)."""


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Health:
    """The client's own health after a pass (counters are totals since start)."""

    passes: Mapping[str, float] = field(default_factory=lambda: _frozen(dict.fromkeys(OUTCOMES, 0.0)))
    errors: Mapping[str, float] = field(default_factory=lambda: _frozen(dict.fromkeys((*MODELS, PROMETHEUS), 0.0)))
    entities: Mapping[str, float] = field(default_factory=lambda: _frozen({}))
    last_success: float | None = None
    duration: float | None = None

    def after(
        self,
        outcome: str,
        errors: Mapping[str, int],
        entities: Mapping[str, int],
        duration: float,
        finished: float,
    ) -> Health:
        """The health after one more pass."""
        passes = dict(self.passes)
        passes[outcome] = passes.get(outcome, 0.0) + 1
        totals = dict(self.errors)
        for name, count in errors.items():
            totals[name] = totals.get(name, 0.0) + count
        return Health(
            passes=_frozen(passes),
            errors=_frozen(totals),
            entities=_frozen({k: float(v) for k, v in entities.items()}),
            last_success=finished if outcome == "success" else self.last_success,
            duration=duration,
        )


@dataclass(frozen=True)
class Snapshot:
    """Entity samples of the last pass and the health after it."""

    samples: tuple[Sample, ...] = ()
    health: Health = field(default_factory=Health)
