"""The predictor's operational metrics, exposed on ``/metrics`` beside KServe's own."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from serving.drift import DriftCollector


class ServingMetrics:
    """One set of collectors per process (created at start, passed to every model)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY, drift_window: int = 10_000) -> None:
        """Args: the registry to register on, and the samples per feature of each model's drift window."""
        self.version_info = Gauge(
            "metrics_ai_model_version_info",
            "Current version of each served model (value 1).",
            ["model", "version"],
            registry=registry,
        )
        self.predictions = Counter(
            "metrics_ai_predictions_total",
            "Predictions answered, by model and outcome.",
            ["model", "outcome"],
            registry=registry,
        )
        self.positives = Counter(
            "metrics_ai_positive_predictions_total",
            "Predictions flagged as anomaly / outlier / crisis / non-OK severity, by model.",
            ["model"],
            registry=registry,
        )
        self.reloads = Counter(
            "metrics_ai_reloads_total",
            "Version switches picked up without a restart.",
            ["model"],
            registry=registry,
        )
        self.reload_failures = Counter(
            "metrics_ai_reload_failures_total",
            "Reload and re-verification failures (old version kept serving), by model and reason: "
            "manifest (unreadable, garbage, other schema), missing (version or file), checksum, "
            "load (deserialising or the smoke request), timeout (a read hung past RELOAD_TIMEOUT).",
            ["model", "reason"],
            registry=registry,
        )
        self.reload_seconds = Histogram(
            "metrics_ai_reload_seconds",
            "Time to verify and load a version.",
            ["model"],
            registry=registry,
        )
        self.artifact_created = Gauge(
            "metrics_ai_artifact_created_timestamp_seconds",
            "Creation time of the serving version (artifact age = time() - this).",
            ["model"],
            registry=registry,
        )
        self.fallback = Gauge(
            "metrics_ai_model_fallback",
            "1 while a model serves an older verified version because the one manifest.json names "
            "could not be read or loaded when nothing was loaded (at start).",
            ["model"],
            registry=registry,
        )
        self.ready = Gauge(
            "metrics_ai_model_ready", "1 when the model is loaded and serving.", ["model"], registry=registry
        )
        self.pool_requests = Gauge(
            "metrics_ai_worker_pool_requests",
            "Requests in the prediction worker pool, running or waiting for a thread.",
            registry=registry,
        )
        self.drift = DriftCollector(drift_window)
        registry.register(self.drift)
