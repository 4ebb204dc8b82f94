"""``python -m alerting``: discover, predict, expose; every interval until SIGTERM."""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from alerting.exporter import Exporter

app = typer.Typer(add_completion=False, help="Call the metrics-ai predictor for every entity and expose gauges.")


@app.command()
def main(
    predictor: Annotated[
        str | None,
        typer.Option(
            help="Predictor base URL, or a template with {model} (one InferenceService per model) [env PREDICTOR_URL]."
        ),
    ] = None,
    model_url: Annotated[
        list[str] | None,
        typer.Option("--model-url", help="NAME=URL for one model, repeatable (env PREDICTOR_MODEL_URLS=n=u,n=u)."),
    ] = None,
    models: Annotated[
        str | None, typer.Option(help="'all' or a comma list of models to call (env ALERTING_MODELS).")
    ] = None,
    prometheus: Annotated[
        str | None, typer.Option(help="Prometheus / thanos-querier URL (env PROMETHEUS_URL).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port of /metrics and /healthz (env ALERTING_PORT, 9105).")] = None,
    interval: Annotated[
        str | None, typer.Option(help="Seconds between passes: 60, 60s, 5m (env ALERTING_INTERVAL, 60).")
    ] = None,
    token_file: Annotated[
        str | None, typer.Option("--predictor-token-file", help="Bearer token file for the predictor.")
    ] = None,
    once: Annotated[bool, typer.Option(help="Run one pass, print the series, exit 0 if it succeeded.")] = False,
) -> None:
    """Every INTERVAL: discover entities in Prometheus, call the predictor, publish gauges on PORT."""
    from alerting.settings import load_all

    configure_logging()
    try:
        settings, options = load_all(
            prometheus_url=prometheus,
            predictor_url=predictor,
            predictor_model_urls=model_url or None,
            predictor_token_file=token_file,
            models=models,
            port=port,
            interval=interval,
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from alerting.exporter import Exporter
    from alerting.loop import Runner
    from alerting.passes import Pass

    passes = Pass(settings, options)
    exporter = Exporter(options.host, 0 if once else options.port)
    runner = Runner(passes, exporter, options.interval)
    try:
        if once:
            snapshot = runner.run_once()
            typer.echo(exporter_text(exporter))
            raise typer.Exit(0 if snapshot.health.passes["success"] else 1)
        exporter.start()
        logging.getLogger("alerting").info(
            "serving /metrics and /healthz on %s:%d; a pass every %d s", options.host, exporter.port, options.interval
        )
        signal.signal(signal.SIGTERM, runner.stop)
        signal.signal(signal.SIGINT, runner.stop)
        runner.run_forever()
    finally:
        exporter.stop()
        passes.close()


def exporter_text(exporter: Exporter) -> str:
    """The metrics_ai_* series the exporter would serve now (for --once)."""
    from prometheus_client import generate_latest

    text = generate_latest(exporter.registry).decode()
    return "\n".join(line for line in text.splitlines() if line.startswith("metrics_ai_"))


def configure_logging() -> None:
    """Timestamped lines on stderr."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run() -> None:
    """Entry point."""
    app()
