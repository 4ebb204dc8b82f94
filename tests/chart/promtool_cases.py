"""Building blocks of `promtool test rules` files: a test group of input series and
expected alerts, a rule's settings as rendered, and Prometheus's duration helpers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds(duration: str) -> int:
    """Seconds in a Prometheus duration (`1h30m`)."""
    return round(sum(float(n) * UNITS[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration)))


def humanize_duration(value: float) -> str:
    """Prometheus's humanizeDuration template function, for whole seconds."""
    v = int(value)
    days, hours, minutes, secs = v // 86400, v // 3600 % 24, v // 60 % 60, v % 60
    if days:
        return f"{days}d {hours}h {minutes}m {secs}s"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def selector(name: str, labels: dict[str, str]) -> str:
    """A series in promtool's notation."""
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items() if v) + "}"


@dataclass
class Group:
    """One promtool test group: input series and the alerts expected at eval times."""

    minutes: int  # evaluated up to this minute
    series: dict[str, list[float]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, labels: dict[str, str], values: list[float] | float) -> None:
        """Add a series: one value per minute, or a constant."""
        values = values if isinstance(values, list) else [values] * (self.minutes + 1)
        self.series[selector(name, labels)] = values

    def switch(self, before: float, after: float, at_minute: int) -> list[float]:
        """Values that are ``before`` until ``at_minute``, then ``after``."""
        return [before if m < at_minute else after for m in range(self.minutes + 1)]

    def expect(self, minute: int, alert: str, alerts: list[dict[str, Any]]) -> None:
        """At ``minute``, exactly ``alerts`` (labels, annotations) of ``alert`` are firing."""
        self.checks.append({"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": alerts})

    def to_promtool(self) -> dict[str, Any]:
        """The group in promtool's test file format."""

        def fmt(v: float) -> str:
            return ("Inf" if v > 0 else "-Inf") if math.isinf(v) else repr(float(v))

        return {
            "interval": "1m",
            "input_series": [{"series": s, "values": " ".join(map(fmt, v))} for s, v in self.series.items()],
            "alert_rule_test": self.checks,
        }


@dataclass(frozen=True)
class Rule:
    """What a case generator needs: the alert's values, its `for:` and the common labels."""

    values: dict[str, Any]  # alerting.rules.<alert>
    for_s: int
    runbook: str | None  # None: alerting.runbookBaseUrl empty, no runbook_url annotation
    extra_labels: dict[str, str]
    chart: dict[str, Any]  # all values

    @property
    def for_min(self) -> int:
        return math.ceil(self.for_s / 60)

    def group(self, extra_minutes: int = 10) -> Group:
        return Group(minutes=self.for_min + extra_minutes)

    def alert(
        self, labels: dict[str, str], summary: str, description: str, severity: str = "", reason: str = ""
    ) -> dict[str, Any]:
        """An expected alert: the entity's labels plus severity (reason) and the install's extra labels."""
        exp_labels = {k: v for k, v in labels.items() if v} | self.extra_labels
        exp_labels["severity"] = severity or self.values["severity"]
        if reason:
            exp_labels["reason"] = reason
        annotations = {"summary": summary, "description": description}
        if self.runbook:
            annotations["runbook_url"] = self.runbook
        return {"exp_labels": exp_labels, "exp_annotations": annotations}

    def recent(self, group: Group) -> int:
        """The minute a "too recent" entity turns bad: at the last evaluation it has been bad for
        less than the `for:`. Without a `for:` nothing is too recent: it stays good."""
        return group.minutes - (self.for_min - 1) if self.for_min else group.minutes + 1

    def early(self, group: Group, alert: str) -> None:
        """Nothing fires one minute before the `for:` has passed (when there is a `for:`)."""
        if self.for_min:
            group.expect(self.for_min - 1, alert, [])
