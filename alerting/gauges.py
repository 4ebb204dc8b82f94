"""Predictions -> gauge samples, one series per entity, with the entity's labels.

The names, labels and values are the alerting contract (README "From predictions to
alerts"); a day count that is "never" (``null`` in the answer) is ``+Inf``, an answer
that could not be given (``reason``: too few points) leaves that gauge out rather
than inventing a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from alerting import models
from alerting.alarms import AlarmBank
from alerting.inputs import Request

INF = math.inf
SEVERITY: dict[str, float] = {"OK": 0.0, "SOON": 1.0, "WARNING": 2.0, "CRITICAL": 3.0}


@dataclass(frozen=True)
class Gauge:
    """One exported gauge family."""

    name: str
    help: str
    labels: tuple[str, ...]


DISK = ("cluster", "node", "mountpoint")
CRISIS = ("cluster", "node", "signal")
FORECAST = ("cluster", "node", "entity", "signal")
GAUGES: dict[str, tuple[Gauge, ...]] = {
    models.DISK: (
        Gauge(
            "metrics_ai_disk_days_to_full",
            "Days until the filesystem reaches the disk-eta threshold (+Inf: never).",
            DISK,
        ),
        Gauge("metrics_ai_disk_used_percent", "Used percent of the filesystem (latest sample).", DISK),
        Gauge("metrics_ai_disk_fill_severity", "disk-eta severity: 0 OK, 1 SOON, 2 WARNING, 3 CRITICAL.", DISK),
    ),
    models.CRISIS: (
        Gauge(
            "metrics_ai_crisis_days",
            "Days until the signal crosses its crisis threshold (+Inf: not within the horizon).",
            CRISIS,
        ),
        Gauge("metrics_ai_crisis_forecast_peak", "Peak of the io-crisis forecast over its horizon.", CRISIS),
        Gauge("metrics_ai_crisis_threshold", "The io-crisis threshold of the signal.", CRISIS),
    ),
    models.FORECAST: (
        Gauge(
            "metrics_ai_forecast",
            "resource-forecast at the end of its horizon (value_type yhat, yhat_lower, yhat_upper).",
            (*FORECAST, "value_type"),
        ),
        Gauge("metrics_ai_forecast_actual", "Last observed value of the history sent to resource-forecast.", FORECAST),
        Gauge(
            "metrics_ai_forecast_deviation_score",
            "Served deviation score of the latest value (memoryless, 0-1).",
            FORECAST,
        ),
        Gauge("metrics_ai_forecast_anomaly_likelihood", "Anomaly likelihood of the deviation alarm (0-1).", FORECAST),
        Gauge(
            "metrics_ai_forecast_deviation_alarm", "1 while the deviation alarm with memory fires, else 0.", FORECAST
        ),
    ),
    models.OUTLIERS: (
        Gauge(
            "metrics_ai_node_outlier",
            "1 when node-outliers flags the node among its peers, else 0.",
            ("cluster", "node"),
        ),
        Gauge("metrics_ai_node_outlier_score", "node-outliers score of the node.", ("cluster", "node")),
    ),
    models.ANOMALY: (
        Gauge(
            "metrics_ai_cluster_anomaly",
            "1 when anomaly-detector flags the cluster's latest row, else 0.",
            ("cluster",),
        ),
        Gauge("metrics_ai_cluster_anomaly_score", "anomaly-detector score of the cluster's latest row.", ("cluster",)),
    ),
}

Sample = tuple[str, tuple[str, ...], float]
"""(gauge name, label values in the gauge's label order, value)."""


def _days(value: Any) -> float:
    return INF if value is None else float(value)


def _values(labels: dict[str, str], names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(labels.get(n, "") for n in names)


def _disk(labels: dict[str, str], p: dict[str, Any], _: AlarmBank, __: Any) -> Iterator[Sample]:
    key = _values(labels, DISK)
    if p.get("current_usage") is not None:
        yield "metrics_ai_disk_used_percent", key, float(p["current_usage"])
    yield "metrics_ai_disk_fill_severity", key, SEVERITY[str(p["severity"])]
    if not p.get("reason"):
        yield "metrics_ai_disk_days_to_full", key, _days(p["eta_days"]["ensemble"])


def _crisis(labels: dict[str, str], p: dict[str, Any], _: AlarmBank, __: Any) -> Iterator[Sample]:
    key = _values(labels, CRISIS)
    yield "metrics_ai_crisis_threshold", key, float(p["threshold"])
    if p.get("reason"):
        return
    yield "metrics_ai_crisis_days", key, _days(p["days_to_crisis"])
    if p.get("forecast_peak") is not None:
        yield "metrics_ai_crisis_forecast_peak", key, float(p["forecast_peak"])


def _forecast(labels: dict[str, str], p: dict[str, Any], alarms: AlarmBank, instance: Any) -> Iterator[Sample]:
    key = _values(labels, FORECAST)
    for value_type, field in (("yhat", "ensemble"), ("yhat_lower", "lower"), ("yhat_upper", "upper")):
        if p.get(field):
            yield "metrics_ai_forecast", (*key, value_type), float(p[field][-1])
    history = instance["history"]
    actual = float(history["values"][-1])
    yield "metrics_ai_forecast_actual", key, actual
    score = float(p["deviation"]["score"])
    yield "metrics_ai_forecast_deviation_score", key, score
    state = alarms.update((labels["entity"], labels["signal"]), float(history["timestamps"][-1]), score, actual)
    yield "metrics_ai_forecast_anomaly_likelihood", key, float(state.likelihood)
    yield "metrics_ai_forecast_deviation_alarm", key, 1.0 if state.firing else 0.0


def _outlier(labels: dict[str, str], p: dict[str, Any], _: AlarmBank, __: Any) -> Iterator[Sample]:
    key = _values(labels, ("cluster", "node"))
    yield "metrics_ai_node_outlier", key, 1.0 if p["is_outlier"] else 0.0
    yield "metrics_ai_node_outlier_score", key, float(p["score"])


def _anomaly(labels: dict[str, str], p: dict[str, Any], _: AlarmBank, __: Any) -> Iterator[Sample]:
    yield "metrics_ai_cluster_anomaly", (labels["cluster"],), 1.0 if p["is_anomaly"] else 0.0
    yield "metrics_ai_cluster_anomaly_score", (labels["cluster"],), float(p["score"])


_CONVERT: dict[str, Callable[[dict[str, str], dict[str, Any], AlarmBank, Any], Iterator[Sample]]] = {
    models.DISK: _disk,
    models.CRISIS: _crisis,
    models.FORECAST: _forecast,
    models.OUTLIERS: _outlier,
    models.ANOMALY: _anomaly,
}


def samples(model: str, request: Request, predictions: list[dict[str, Any]], alarms: AlarmBank) -> list[Sample]:
    """The gauge samples of one answered request (anomaly-detector: its latest row only).

    Raises:
        KeyError, TypeError, ValueError: an answer without the contract's fields.
    """
    convert = _CONVERT[model]
    pairs = list(zip(request.labels, predictions, request.instances, strict=True))
    if model == models.ANOMALY:
        pairs = pairs[-1:]
    return [s for labels, p, instance in pairs for s in convert(labels, p, alarms, instance)]
