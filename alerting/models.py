"""The served models the alerting client calls, named by the family registry (never spelled out)."""

from __future__ import annotations

from metrics_ai.families import anomaly, disk_eta, forecast, io_crisis, node_outliers

ANOMALY: str = anomaly.FAMILY.name
OUTLIERS: str = node_outliers.FAMILY.name
FORECAST: str = forecast.FAMILY.name
DISK: str = disk_eta.FAMILY.name
CRISIS: str = io_crisis.FAMILY.name
