"""Build the predictor process: one ServedModel per model, KServe's ModelServer, reload watcher."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from metrics_ai.artifacts import MANIFEST, ModelStore
from metrics_ai.families import FAMILIES, MODEL_NAMES
from metrics_ai.families.base import HistoryFetcher
from metrics_ai.settings import Settings, ShadowMode
from serving.limits import RequestLimits
from serving.metrics import ServingMetrics
from serving.model import ServedModel
from serving.pool import PredictionPool
from serving.shadow import ShadowMetrics, ShadowScorer

if TYPE_CHECKING:
    from fastapi import FastAPI

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


def build_models(
    model_dir: Path,
    names: list[str],
    settings: Settings,
    metrics: ServingMetrics,
    pool: PredictionPool | None = None,
    load: bool = True,
) -> list[ServedModel]:
    """Create and load each model; a broken one stays registered but not ready.

    Without a ``pool`` every request is answered on the caller's thread (dry runs, tools);
    ``load`` False leaves loading to the caller (the server loads each model on its own thread).
    """
    fetcher = build_fetcher(settings)
    limits = RequestLimits.from_settings(settings)
    models = []
    for name in names:
        model = ServedModel(
            FAMILIES[name],
            ModelStore(model_dir, name),
            metrics,
            fetcher,
            pool=pool,
            limits=limits,
            inline_max_bytes=settings.inline_max_bytes,
            fetch_budget_s=settings.prometheus_fetch_budget,
        )
        model.enable_latency_logging = settings.request_trace  # KServe's per-request kserve.trace line
        if load and not model.load():
            log.error("%s: not ready: %s", name, model.last_error)
        models.append(model)
    return models


def attach_shadows(models: list[ServedModel], settings: Settings, metrics: ShadowMetrics) -> list[ShadowScorer]:
    """With SHADOW on, give every model a :class:`ShadowScorer` (started); none when off."""
    if settings.shadow == ShadowMode.off:
        return []
    scorers = []
    for model in models:
        scorer = ShadowScorer(
            model.family,
            model.store,
            settings.shadow,
            metrics,
            settings.shadow_queue,
            settings.reload_interval,
            model.fetcher,
            settings.prometheus_fetch_budget,
            settings.shadow_budget,
        )
        scorer.start()
        model.shadow = scorer
        scorers.append(scorer)
    return scorers


def serve(model_dir: Path, names: list[str], settings: Settings, http_port: int, grpc_port: int) -> None:
    """Run the KServe ModelServer until stopped."""
    from kserve import model_server
    from kserve.model_server import app

    from serving.body_limit import BodyLimitMiddleware
    from serving.errors import install_error_handler
    from serving.http_limits import GuardedModelServer, HeadLimits
    from serving.management import (
        GuardedRepositoryExtension,
        ServedRepository,
        ServingDataPlane,
        install_management_handler,
    )
    from serving.metadata import install_metadata_servicer
    from serving.reload import ReloadWatcher
    from serving.versioned_paths import VersionedPathsMiddleware

    metrics = ServingMetrics(drift_window=settings.drift_window)
    pool = PredictionPool(settings.predict_workers, settings.predict_queue, metrics.pool_requests)
    models = build_models(model_dir, names, settings, metrics, pool, load=False)
    watcher = ReloadWatcher(models, settings.reload_interval, settings.reload_timeout, settings.reverify_interval)
    watcher.load_all()  # one thread per model: a hung volume delays the start by RELOAD_TIMEOUT at most
    for model in models:
        if not model.ready:
            log.error("%s: not ready: %s", model.name, model.last_error)
    install_error_handler(app)
    install_management_handler(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    by_name = {model.name: model for model in models}
    app.add_middleware(
        VersionedPathsMiddleware,
        served=lambda name: by_name[name].version if name in by_name else None,
        known=by_name.__contains__,
    )
    if settings.docs_url:
        install_docs_page(app)
    install_metadata_servicer()
    # KServe hands its parsed command-line namespace to the gRPC server as options.
    model_server.args.grpc_max_receive_message_length = settings.max_body_bytes
    # Register every model, ready or not: a model whose artifact is missing answers 503
    # (and is picked up by the watcher once published) instead of the process exiting.
    repository = ServedRepository(models)
    server = GuardedModelServer(
        HeadLimits(timeout=settings.header_timeout, max_bytes=settings.max_header_bytes),
        http_port=http_port,
        grpc_port=grpc_port,
        enable_docs_url=settings.docs_url,
        enable_latency_logging=settings.request_trace,
        registered_models=repository,
    )
    server.model_repository_extension = GuardedRepositoryExtension(repository, settings.model_management)
    server.dataplane = ServingDataPlane(repository, names)
    watcher.start()
    shadows = attach_shadows(models, settings, ShadowMetrics())
    # Everything loaded so far (libraries, model state) lives for the whole process: move it
    # out of the cyclic GC's reach so collections triggered by requests stay cheap.
    gc.collect()
    gc.freeze()
    try:
        server.start([])
    finally:
        watcher.stop()
        for scorer in shadows:
            scorer.stop()
        pool.close()


def install_docs_page(app: FastAPI) -> None:
    """KServe's OpenAPI page at ``/docs``: Swagger UI over the app's ``/openapi.json``.

    KServe builds its FastAPI app when imported, with ``/docs`` on only when its own
    ``--enable_docs_url`` flag is in the process's arguments; this adds the page the way
    FastAPI does, behind the DOCS_URL setting instead.
    """
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from starlette.requests import Request

    openapi_url = app.openapi_url or "/openapi.json"

    async def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(openapi_url=root + openapi_url, title=f"{app.title} - Swagger UI")

    app.docs_url = "/docs"
    app.add_route("/docs", docs, include_in_schema=False)
