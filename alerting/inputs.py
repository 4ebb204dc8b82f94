"""What each model needs, built from one read per signal for every entity that exists now.

Shapes follow the training side, so the models see what they were fitted on:

* disk-eta / io-crisis: each filesystem's used percent, each node's io_wait / net_rx /
  net_tx over the families' ``recent_hours`` at their ``recent_step`` (the window the
  predictor itself would fetch);
* resource-forecast: cpu and memory per cluster as the mean over its nodes at each
  step (``training/forecast_series.py``), per standalone node as they are; io_wait,
  net_rx, net_tx per node; ``3 x LSTM_SEQ_LEN`` points at STEP;
* node-outliers: each node's means of host cpu / memory and pod cpu / memory over
  LOOKBACK_HOURS (``training/families/node_outliers.py:node_means``), clusters with
  at least three such nodes;
* anomaly-detector: one row per SAMPLE_INTERVAL of the five metrics (keyed by name,
  so the manifest's order cannot be mixed up), each the mean over the cluster's nodes
  (the per-node scale the forest was fitted on), the last ``window + max(lag)`` rows
  (the server computes the rolling features from them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alerting import models
from alerting.discovery import Inventory
from alerting.reads import Result, Window
from metrics_ai.families.anomaly import METRIC_SIGNALS, AnomalyConfig
from metrics_ai.families.disk_eta import SIGNAL as DISK_SIGNAL
from metrics_ai.families.disk_eta import DiskEtaConfig
from metrics_ai.families.forecast.config import CLUSTER_SIGNALS, NODE_SIGNALS
from metrics_ai.families.io_crisis import SIGNALS as CRISIS_SIGNALS
from metrics_ai.families.io_crisis import UPPER, IoCrisisConfig
from metrics_ai.families.node_outliers import FEATURE_SIGNALS, MIN_PEERS
from metrics_ai.prometheus import CanonicalSeries
from metrics_ai.settings import Settings

HOUR = 3600


class MissingDataError(RuntimeError):
    """A read a model needs failed (the cause is the read's exception)."""


@dataclass(frozen=True)
class Request:
    """One predictor request: instances and, per instance, the gauge labels it answers for."""

    instances: list[Any]
    labels: list[dict[str, str]]


@dataclass(frozen=True)
class Plan:
    """Everything one model is asked in a pass (entities counts what it evaluates)."""

    model: str
    requests: list[Request] = field(default_factory=list)
    entities: int = 0


def _history(s: CanonicalSeries, low: float = 0.0, high: float = float("inf")) -> dict[str, list[float]]:
    return {"timestamps": s.timestamps.tolist(), "values": np.clip(s.values, low, high).tolist()}


def node_fields(cluster: str, node: str) -> dict[str, str]:
    """How a disk-eta / io-crisis instance names its node: with its ``cluster`` when it has one.

    The cluster keeps a node name used in two clusters (behind one Thanos) two entities;
    a standalone node (cluster "") sends ``node`` alone.
    """
    return {"cluster": cluster, "node": node} if cluster else {"node": node}


def _by_node(series: list[CanonicalSeries]) -> dict[tuple[str, str], CanonicalSeries]:
    return {(s.cluster, s.node): s for s in series}


def mean_by_time(series: list[CanonicalSeries]) -> tuple[np.ndarray, np.ndarray]:
    """The mean over series at each timestamp they share any sample at (sorted)."""
    if not series:
        return np.empty(0), np.empty(0)
    ts = np.concatenate([s.timestamps for s in series])
    vs = np.concatenate([s.values for s in series])
    stamps, inverse = np.unique(ts, return_inverse=True)
    return stamps, np.bincount(inverse, weights=vs) / np.bincount(inverse)


class InputBuilder:
    """Windows to read and requests to send, per model, from the shared settings."""

    def __init__(self, settings: Settings, batch: int) -> None:
        self.settings = settings
        self.batch = batch
        disk, crisis = DiskEtaConfig(), IoCrisisConfig()
        self.anomaly = AnomalyConfig(sample_interval=settings.sample_interval)
        self.disk = Window(DISK_SIGNAL, int(disk.recent_hours * HOUR), disk.recent_step)
        self.crisis = {s: Window(s, int(crisis.recent_hours * HOUR), crisis.recent_step) for s in CRISIS_SIGNALS}
        forecast_seconds = 3 * settings.lstm_seq_len * settings.step
        self.forecast = {s: Window(s, forecast_seconds, settings.step) for s in (*CLUSTER_SIGNALS, *NODE_SIGNALS)}
        self.forecast_min_points = settings.lstm_seq_len + 1
        self.outliers = {
            f: Window(s, settings.lookback_hours * HOUR, settings.sample_interval) for f, s in FEATURE_SIGNALS.items()
        }
        rows = self.anomaly.window + max(self.anomaly.lags, default=0) + 1
        self.anomaly_rows = rows
        self.rows = {
            m: Window(s, rows * settings.sample_interval, settings.sample_interval) for m, s in METRIC_SIGNALS.items()
        }

    def windows(self, model: str) -> list[Window]:
        """The reads ``model`` needs."""
        return {
            models.DISK: [self.disk],
            models.CRISIS: list(self.crisis.values()),
            models.FORECAST: list(self.forecast.values()),
            models.OUTLIERS: list(self.outliers.values()),
            models.ANOMALY: [self.rows[m] for m in self.anomaly.metrics],
        }[model]

    def plan(self, model: str, inventory: Inventory, reads: Mapping[Window, Result]) -> Plan:
        """The requests for ``model``.

        Raises:
            MissingDataError: a read it needs failed (the read's exception is the cause).
        """
        data: dict[Window, list[CanonicalSeries]] = {}
        for window in self.windows(model):
            result = reads.get(window, [])
            if isinstance(result, Exception):
                raise MissingDataError(f"{window.signal}: {result}") from result
            data[window] = result
        build = {
            models.DISK: self._disk,
            models.CRISIS: self._crisis,
            models.FORECAST: self._forecast,
            models.OUTLIERS: self._outliers,
            models.ANOMALY: self._anomaly,
        }[model]
        instances, labels = build(inventory, data)
        if model == models.ANOMALY:  # one entity's consecutive rows per request
            return Plan(model, [Request(i, lab) for i, lab in zip(instances, labels, strict=True)], len(instances))
        if model == models.OUTLIERS:  # a cluster's nodes stay in one request (peers compare)
            groups = [Request(i, lab) for i, lab in zip(instances, labels, strict=True)]
            return Plan(model, _pack(groups, self.batch), sum(len(i) for i in instances))
        requests = [
            Request(instances[k : k + self.batch], labels[k : k + self.batch])
            for k in range(0, len(instances), self.batch)
        ]
        return Plan(model, requests, len(instances))

    # --- per model -----------------------------------------------------------
    def _disk(self, inv: Inventory, data: dict[Window, list[CanonicalSeries]]) -> tuple[list, list]:
        series = {(s.cluster, s.node, s.mountpoint): s for s in data[self.disk]}
        instances, labels = [], []
        for cluster, node, mount in sorted(inv.filesystems):
            s = series.get((cluster, node, mount))
            if s is None:
                continue
            instances.append({**node_fields(cluster, node), "mountpoint": mount, "history": _history(s, 0.0, 100.0)})
            labels.append({"cluster": cluster, "node": node, "mountpoint": mount})
        return instances, labels

    def _crisis(self, inv: Inventory, data: dict[Window, list[CanonicalSeries]]) -> tuple[list, list]:
        instances, labels = [], []
        for signal, window in self.crisis.items():
            series = _by_node(data[window])
            for cluster, node in sorted(inv.nodes):
                s = series.get((cluster, node))
                if s is None:
                    continue
                history = _history(s, 0.0, UPPER[signal])
                instances.append({**node_fields(cluster, node), "signal": signal, "history": history})
                labels.append({"cluster": cluster, "node": node, "signal": signal})
        return instances, labels

    def _forecast(self, inv: Inventory, data: dict[Window, list[CanonicalSeries]]) -> tuple[list, list]:
        instances, labels = [], []

        def add(entity: str, node: str, cluster: str, signal: str, t: np.ndarray, y: np.ndarray) -> None:
            if len(t) < self.forecast_min_points:
                return
            history = {"timestamps": t.tolist(), "values": np.maximum(y, 0.0).tolist()}
            instances.append({"entity": entity, "signal": signal, "history": history})
            labels.append({"cluster": cluster, "node": node, "entity": entity, "signal": signal})

        for signal in CLUSTER_SIGNALS:
            series = data[self.forecast[signal]]
            for cluster in inv.clusters:
                if cluster:
                    add(cluster, "", cluster, signal, *mean_by_time([s for s in series if s.cluster == cluster]))
            lone = _by_node(series)
            for node in inv.nodes_of(""):
                s = lone.get(("", node))
                if s is not None:
                    add(node, node, "", signal, s.timestamps, s.values)
        for signal in NODE_SIGNALS:
            by_node = _by_node(data[self.forecast[signal]])
            for cluster, node in sorted(inv.nodes):
                s = by_node.get((cluster, node))
                if s is not None:
                    add(node, node, cluster, signal, s.timestamps, s.values)
        return instances, labels

    def _outliers(self, inv: Inventory, data: dict[Window, list[CanonicalSeries]]) -> tuple[list, list]:
        means = {
            feature: {k: float(np.mean(s.values)) for k, s in _by_node(data[w]).items()}
            for feature, w in self.outliers.items()
        }
        per_cluster: list[list[Any]] = []
        per_labels: list[list[dict[str, str]]] = []
        for cluster in inv.clusters:
            if not cluster:
                continue  # standalone nodes have no peers
            rows: list[dict[str, Any]] = []
            for node in inv.nodes_of(cluster):
                values = {f: means[f].get((cluster, node)) for f in self.outliers}
                if all(v is not None and np.isfinite(v) for v in values.values()):
                    rows.append({"cluster": cluster, "node": node, **values})
            if len(rows) >= MIN_PEERS:
                per_cluster.append(rows)
                per_labels.append([{"cluster": cluster, "node": r["node"]} for r in rows])
        return per_cluster, per_labels

    def _anomaly(self, inv: Inventory, data: dict[Window, list[CanonicalSeries]]) -> tuple[list, list]:
        per_cluster: list[list[Any]] = []
        per_labels: list[list[dict[str, str]]] = []
        for cluster in inv.clusters:
            nodes = set(inv.nodes_of(cluster))
            columns = {}
            for metric in self.anomaly.metrics:
                chosen = [s for s in data[self.rows[metric]] if s.cluster == cluster and s.node in nodes]
                t, y = mean_by_time(chosen)
                columns[metric] = dict(zip(t.tolist(), y.tolist(), strict=True))
            common = sorted(set.intersection(*(set(c) for c in columns.values())))[-self.anomaly_rows :]
            if not common:
                continue
            per_cluster.append([{m: columns[m][t] for m in self.anomaly.metrics} for t in common])
            per_labels.append([{"cluster": cluster}] * len(common))
        return per_cluster, per_labels


def _pack(groups: list[Request], batch: int) -> list[Request]:
    """Whole groups (a cluster's nodes) into requests of at most ``batch`` instances (a bigger group alone)."""
    out: list[Request] = []
    for group in groups:
        if out and len(out[-1].instances) + len(group.instances) <= batch:
            out[-1].instances.extend(group.instances)
            out[-1].labels.extend(group.labels)
        else:
            out.append(Request(list(group.instances), list(group.labels)))
    return out
