"""``python -m serving``: the KServe predictor hosting the metrics-ai models."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, help="Serve metrics-ai models over KServe V1/V2 (REST and gRPC).")


@app.command()
def main(
    model_dir: Annotated[Path, typer.Option("--model-dir", help="Model root (e.g. /mnt/models).")],
    models: Annotated[str, typer.Option(help="'all' (every model found) or a comma list of names.")] = "all",
    http_port: Annotated[int, typer.Option("--http-port", help="REST port.")] = 8080,
    grpc_port: Annotated[int, typer.Option("--grpc-port", help="gRPC port.")] = 8081,
    dry_run: Annotated[bool, typer.Option(help="Load the models, report readiness, exit.")] = False,
) -> None:
    """Serve the named models from MODEL_DIR; not-ready models answer 503 until published."""
    from metrics_ai.settings import load_settings
    from serving.server import build_models, discover_models, serve

    try:
        settings = load_settings()
        names = discover_models(model_dir, models)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(request_trace=settings.request_trace)
    if dry_run:
        from prometheus_client import CollectorRegistry

        from serving.metrics import ServingMetrics

        loaded = build_models(model_dir, names, settings, ServingMetrics(CollectorRegistry()))
        for model in loaded:
            state = f"ready (version {model.version})" if model.ready else f"NOT READY: {model.last_error}"
            typer.echo(f"{model.name}: {state}")
        raise typer.Exit(0 if all(m.ready for m in loaded) else 1)
    serve(model_dir, names, settings, http_port, grpc_port)


def configure_logging(*, request_trace: bool = False) -> None:
    """KServe's own logging configuration, with this project's loggers on KServe's handler.

    Args:
        request_trace: keep KServe's per-request timing lines (``kserve.trace``, two INFO
            lines a request); off, only the access log records requests.
    """
    from kserve.logging import KSERVE_LOG_CONFIG
    from kserve.logging import configure_logging as kserve_configure

    # KServe 0.21's own endpoints still answer with ORJSONResponse, which FastAPI now flags
    # on every process start; it is not actionable here.
    warnings.filterwarnings("ignore", message="ORJSONResponse is deprecated")
    config = copy.deepcopy(KSERVE_LOG_CONFIG)
    for name in ("serving", "metrics_ai"):
        config["loggers"][name] = {"handlers": ["kserve"], "level": "INFO", "propagate": False}
    config["loggers"]["kserve.trace"]["level"] = "INFO" if request_trace else "WARNING"
    kserve_configure(config)
    from kserve.logging import logger as kserve_logger

    from serving.errors import ClientErrorLogFilter

    kserve_logger.addFilter(ClientErrorLogFilter())


def run() -> None:
    """Entry point."""
    app()
