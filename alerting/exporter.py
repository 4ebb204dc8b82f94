"""``/metrics`` (the last pass's snapshot, Prometheus text format) and ``/healthz``.

A custom ``prometheus_client`` Collector renders whatever snapshot is current; the
loop replaces it in one assignment after each pass (:meth:`Exporter.publish`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from alerting.gauges import GAUGES
from alerting.snapshot import OUTCOMES, Snapshot


class SnapshotCollector(Collector):
    """Yields the current snapshot's families (entity gauges, then the client's health)."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        """One family per contract gauge (empty when its model failed) and the health metrics."""
        snap = self.snapshot  # one read: the whole scrape renders the same pass
        by_name: dict[str, list[tuple[tuple[str, ...], float]]] = {}
        for name, labels, value in snap.samples:
            by_name.setdefault(name, []).append((labels, value))
        for gauges in GAUGES.values():
            for gauge in gauges:
                family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
                for labels, value in by_name.get(gauge.name, ()):
                    family.add_metric(list(labels), value)
                yield family
        yield from _health(snap)


def _health(snap: Snapshot) -> Iterator[Metric]:
    health = snap.health
    last = GaugeMetricFamily(
        "metrics_ai_alerting_last_success_timestamp_seconds", "Unix time of the last fully successful pass."
    )
    if health.last_success is not None:
        last.add_metric([], health.last_success)
    yield last
    duration = GaugeMetricFamily("metrics_ai_alerting_pass_duration_seconds", "Duration of the last pass.")
    if health.duration is not None:
        duration.add_metric([], health.duration)
    yield duration
    passes = CounterMetricFamily("metrics_ai_alerting_passes", "Passes run, by outcome.", labels=["outcome"])
    for outcome in OUTCOMES:
        passes.add_metric([outcome], health.passes.get(outcome, 0.0))
    yield passes
    errors = CounterMetricFamily(
        "metrics_ai_alerting_errors", "Errors in passes, by model (or prometheus).", labels=["model"]
    )
    for model, count in sorted(health.errors.items()):
        errors.add_metric([model], count)
    yield errors
    entities = GaugeMetricFamily(
        "metrics_ai_alerting_entities", "Entities evaluated by the last pass, by model.", labels=["model"]
    )
    for model, count in sorted(health.entities.items()):
        entities.add_metric([model], count)
    yield entities


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Scrapes are not worth a log line."""


class Exporter:
    """The HTTP side: a registry with the snapshot collector (and process metrics), served in a thread."""

    def __init__(self, host: str, port: int) -> None:
        self.collector = SnapshotCollector()
        self.registry = CollectorRegistry()
        self.registry.register(self.collector)
        ProcessCollector(registry=self.registry)
        self._metrics = make_wsgi_app(self.registry)
        self._server = make_server(host, port, self._app, _Server, handler_class=_QuietHandler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="exporter", daemon=True)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (if started) and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def publish(self, snapshot: Snapshot) -> None:
        """Make ``snapshot`` what the next scrape sees (a single reference swap)."""
        self.collector.snapshot = snapshot

    def _app(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return self._metrics(environ, start)
        if path == "/healthz":
            health = self.collector.snapshot.health
            body = json.dumps({"status": "ok", "last_success": health.last_success, "passes": dict(health.passes)})
            start("200 OK", [("Content-Type", "application/json")])
            return [body.encode()]
        start("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics or /healthz\n"]
