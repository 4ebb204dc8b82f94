"""Build the predictor process: one ServedModel per model, KServe's ModelServer, reload watcher."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from metrics_ai.artifacts import MANIFEST, ModelStore
from metrics_ai.families import FAMILIES, MODEL_NAMES
from metrics_ai.families.base import HistoryFetcher
from metrics_ai.settings import Settings
from serving.metrics import ServingMetrics
from serving.model import ServedModel

log = logging.getLogger(__name__)


def discover_models(model_dir: Path, spec: str) -> list[str]:
    """``all``: every model published under ``model_dir`` (all five if none yet); else the named ones."""
    if spec.strip() != "all":
        names = [s.strip() for s in spec.split(",") if s.strip()]
        unknown = [n for n in names if n not in MODEL_NAMES]
        if unknown or not names:
            raise ValueError(f"unknown model(s) {unknown}; expected 'all' or names from {list(MODEL_NAMES)}")
        return names
    found = [n for n in MODEL_NAMES if (model_dir / n / MANIFEST).exists() or (model_dir / n / "versions").is_dir()]
    return found or list(MODEL_NAMES)


def build_fetcher(settings: Settings) -> HistoryFetcher | None:
    """A Prometheus fetcher when PROMETHEUS_URL is set, else None."""
    if not settings.prometheus_url:
        return None
    from metrics_ai.fetch import PrometheusFetcher

    return PrometheusFetcher(settings)


def build_models(model_dir: Path, names: list[str], settings: Settings, metrics: ServingMetrics) -> list[ServedModel]:
    """Create and load each model; a broken one stays registered but not ready."""
    fetcher = build_fetcher(settings)
    models = []
    for name in names:
        model = ServedModel(FAMILIES[name], ModelStore(model_dir, name), metrics, fetcher)
        if not model.load():
            log.error("%s: not ready: %s", name, model.last_error)
        models.append(model)
    return models


def serve(model_dir: Path, names: list[str], settings: Settings, http_port: int, grpc_port: int) -> None:
    """Run the KServe ModelServer until stopped."""
    import kserve
    from kserve.model_server import app

    from serving.errors import install_error_handler
    from serving.reload import ReloadWatcher

    metrics = ServingMetrics()
    models = build_models(model_dir, names, settings, metrics)
    install_error_handler(app)
    server = kserve.ModelServer(http_port=http_port, grpc_port=grpc_port, enable_docs_url=False)
    # Register every model, ready or not: a model whose artifact is missing answers 503
    # (and is picked up by the watcher once published) instead of the process exiting.
    for model in models:
        server.register_model(model)
    watcher = ReloadWatcher(models, settings.reload_interval)
    watcher.start()
    # Everything loaded so far (libraries, model state) lives for the whole process: move it
    # out of the cyclic GC's reach so collections triggered by requests stay cheap.
    gc.collect()
    gc.freeze()
    try:
        server.start([])
    finally:
        watcher.stop()
