"""``python -m training run | update | rollback | approve | reject | versions``: the training job's command line."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import MetricsAIError
from metrics_ai.families import MODEL_NAMES
from metrics_ai.history import CURRENT_EVENTS, DECISION_EVENTS, Event
from metrics_ai.settings import DataSource, Settings, load_settings
from training.progress import progress_reporter

if TYPE_CHECKING:
    import pandas as pd

    from metrics_ai.artifacts import DataWindow
    from training.pipeline import FamilyRun
    from training.update import FamilyUpdate

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Train, publish and roll back metrics-ai models.")
console = Console(stderr=True)

#: exit status when a family failed to train or a version was rejected (CronJob shows it);
#: a version held for approval (APPROVAL=manual) passed: the run exits 0, its row says PENDING
EXIT_REJECTED = 3
EXIT_FAILED = 1


# the options `run` and `update` share
OutOption = Annotated[Path, typer.Option(help="Model root (e.g. /mnt/models).")]
SourceOption = Annotated[DataSource | None, typer.Option(help="Data source (default: DATA_SOURCE).")]
DataOption = Annotated[Path | None, typer.Option(help="CSV/Parquet file or folder for --source files.")]
ModelsOption = Annotated[str, typer.Option(help="'all' or a comma list of model names.")]
ProfileOption = Annotated[str, typer.Option(help="Synthetic profile: demo, cluster-100, tiny.")]
DryRunOption = Annotated[bool, typer.Option(help="Validate settings and arguments, then stop.")]


@app.command()
def run(
    out: OutOption,
    source: SourceOption = None,
    data: DataOption = None,
    models: ModelsOption = "all",
    profile: ProfileOption = "demo",
    dry_run: DryRunOption = False,
) -> None:
    """Train, backtest and publish; print a summary table; write a report beside the artifacts."""
    from training.pipeline import run_training
    from training.sources import load_data

    settings, names = _start(source, models, profile, dry_run, out)
    console.print(f"reading data: source={settings.data_source.value} profile={profile}")
    frame, window = _read(lambda: load_data(settings, settings.data_source, data, profile))
    with progress_reporter(console) as progress_for:
        runs = run_training(frame, window, settings, out, names, progress_for)
    _finish("run", settings, out, runs, window, [])


@app.command()
def update(
    out: OutOption,
    source: SourceOption = None,
    data: DataOption = None,
    models: ModelsOption = "all",
    profile: ProfileOption = "demo",
    dry_run: DryRunOption = False,
) -> None:
    """Refresh the current versions cheaply from the latest UPDATE_DAYS (between full retrains).

    Same gate, atomic switch, table, report and exit codes as ``run``; a model with
    no current version fails (run a full training first).
    """
    from training.update import read_latest, run_update, window_days

    settings, names = _start(source, models, profile, dry_run, out)
    days = window_days(settings)
    console.print(f"reading the latest {days:g} days: source={settings.data_source.value} profile={profile}")
    frame, window = _read(lambda: read_latest(settings, settings.data_source, data, profile))
    with progress_reporter(console) as progress_for:
        done = run_update(frame, window, settings, out, names, progress_for)
    _finish("update", settings, out, [u.run for u in done if u.kept is None], window, _kept_rows(done))


def _read(reader: Callable[[], tuple[pd.DataFrame, DataWindow]]) -> tuple[pd.DataFrame, DataWindow]:
    """Run ``reader`` and say what it read; a source that cannot be read exits 2."""
    try:
        frame, window = reader()
    except (MetricsAIError, ValueError, OSError) as exc:
        console.print(f"[red]error reading data:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"{window.rows} rows, {window.entities} entities, {window.start} .. {window.end}")
    return frame, window


def _kept_rows(done: list[FamilyUpdate]) -> list[dict[str, Any]]:
    """Summary rows of the families an update left as they were."""
    return [
        {
            "model": u.run.model,
            "status": "unchanged",
            "version": "-",
            "entities": "-",
            "metrics": u.kept,
            "seconds": round(u.run.seconds, 1),
        }
        for u in done
        if u.kept is not None
    ]


def _start(
    source: DataSource | None, models: str, profile: str, dry_run: bool, out: Path
) -> tuple[Settings, list[str]]:
    """Logging, settings and arguments (exit 2 when invalid); stops after a dry run."""
    from training.logs import configure_logging

    configure_logging()  # before the imports below can import prophet
    from training.pipeline import parse_models
    from training.sources.profiles import get_profile

    try:
        settings = load_settings(data_source=source)
        names = parse_models(models)
        get_profile(profile)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if dry_run:
        console.print(f"dry run: source={settings.data_source.value} models={','.join(names)} out={out}")
        raise typer.Exit(0)
    return settings, names


def _finish(
    kind: str,
    settings: Settings,
    out: Path,
    runs: list[FamilyRun],
    window: DataWindow,
    extra: list[dict[str, Any]],
) -> None:
    """Print the summary table, write the report, exit 1 on a failure and 3 on a rejection."""
    from training.report import KEEP_UPDATE_REPORTS, summary_rows, write_report

    columns = ("model", "status", "version", "entities", "metrics", "seconds")
    table = Table(title="metrics-ai training" if kind == "run" else "metrics-ai update")
    for column in columns:
        table.add_column(column)
    for row in sorted([*summary_rows(runs), *extra], key=lambda r: MODEL_NAMES.index(r["model"])):
        table.add_row(*(str(row[c]) for c in columns))
    out_console = Console()
    if not out_console.is_terminal:  # logs and CronJob output: don't squeeze the table to 80 columns
        out_console = Console(width=200)
    out_console.print(table)
    keep = KEEP_UPDATE_REPORTS if kind == "update" else settings.keep_versions
    report = write_report(out, runs, window, keep, kind)
    console.print(f"report: {report / 'report.md'}")
    if any(r.error for r in runs):
        raise typer.Exit(EXIT_FAILED)
    if any(r.published is not None and not r.published.accepted for r in runs):
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def rollback(
    out: Annotated[Path, typer.Option(help="Model root.")],
    model: Annotated[str, typer.Option(help="Served model name.")],
    version: Annotated[str | None, typer.Option(help="Version to make current (default: the one before).")] = None,
) -> None:
    """Make an earlier published version current again (the predictor follows).

    The target is first loaded and made to answer its smoke instances, as a publish does
    (a rejected or orphaned version named by --version included); if it fails, nothing changes.
    """
    from training.logs import configure_logging
    from training.publish import smoke_test

    configure_logging()
    try:
        if model not in MODEL_NAMES:
            raise MetricsAIError(f"no model {model!r}; models: {', '.join(MODEL_NAMES)}")
        target, current = ModelStore(out, model).rollback(version, check=smoke_test)
    except MetricsAIError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"{model}: current version is now {target} (was {current})")


ModelOption = Annotated[str, typer.Option(help="Served model name.")]
VersionOption = Annotated[str | None, typer.Option(help="Version awaiting approval (default: the newest).")]


def _store(out: Path, model: str) -> ModelStore:
    """The model's store; an unknown model name exits 2."""
    if model not in MODEL_NAMES:
        console.print(f"[red]error:[/red] no model {model!r}; models: {', '.join(MODEL_NAMES)}")
        raise typer.Exit(2)
    return ModelStore(out, model)


def _approver() -> str:
    """Who runs this command (APPROVER, else USER / LOGNAME, else the uid), for history.jsonl."""
    try:
        name = load_settings().approver
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    return name or f"uid {os.getuid()}"


@app.command()
def approve(out: OutOption, model: ModelOption, version: VersionOption = None) -> None:
    """Make a version awaiting approval current (the predictor follows; no restart).

    Records who (APPROVER, else USER / LOGNAME) and when in history.jsonl.
    """
    store, by = _store(out, model), _approver()
    try:
        target, current = store.approve(version, by)
    except MetricsAIError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"{model}: {target} approved by {by}; current version is now {target} (was {current})")


@app.command()
def reject(
    out: OutOption,
    model: ModelOption,
    reason: Annotated[str, typer.Option(help="Why (kept in history.jsonl, shown by `versions`).")],
    version: VersionOption = None,
) -> None:
    """Refuse a version awaiting approval and record why, who and when; the current one stays."""
    store, by = _store(out, model), _approver()
    try:
        if not reason.strip():
            raise MetricsAIError("--reason: say why the version is rejected")
        target = store.decline(version, reason.strip(), by)
    except MetricsAIError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"{model}: {target} rejected by {by}: {reason.strip()}")


@app.command()
def versions(
    out: OutOption,
    model: ModelOption,
    predictor: Annotated[
        str | None, typer.Option(help="Predictor URL: also print its shadow figures for this model (SHADOW).")
    ] = None,
) -> None:
    """List a model's versions: current, pending approval, rejected and why (and by whom), orphaned."""
    store = _store(out, model)
    history = store.read_history()
    if history.skipped:
        lines = ", ".join(str(n) for n in history.skipped)
        console.print(f"[yellow]warning:[/yellow] history.jsonl: skipped unreadable line(s) {lines}")
    current, awaiting = store.current_version(), set(store.awaiting_approval())
    decided = {e.version: e for e in history.entries if e.event in DECISION_EVENTS}
    pending_since = {e.version: e.time for e in history.entries if e.event == Event.pending}
    served = {e.version for e in history.entries if e.event in CURRENT_EVENTS}
    for v in store.versions():
        entry = decided.get(v)
        who = f" (by {entry.by}, {entry.time})" if entry is not None and entry.by else ""
        if v == current:
            mark = "current" + who.replace("(by", "(approved by")
        elif v in awaiting:
            mark = f"PENDING approval (since {pending_since[v]})"
        elif entry is not None and entry.event == Event.rejected:
            mark = f"rejected: {entry.reason or ''}{who}"
        elif entry is not None:
            mark = "approved" + who
        elif v in served:
            mark = ""
        else:
            mark = "orphaned: never current (a run stopped before its switch)"
        print(f"{v}  {mark}".rstrip())
    if predictor:
        _print_shadow(predictor, model)


def _print_shadow(url: str, model: str) -> None:
    """Print the predictor's ``metrics_ai_shadow_*`` samples for ``model`` (exit 2 if unreachable)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as answer:  # noqa: S310
            text = answer.read().decode("utf-8")
    except (OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] --predictor {url}: {exc}")
        raise typer.Exit(2) from None
    lines = [ln for ln in text.splitlines() if ln.startswith("metrics_ai_shadow_") and f'model="{model}"' in ln]
    print(f"shadow figures from {url}:" if lines else f"no shadow figures for {model} at {url} (SHADOW off?)")
    for line in lines:
        print(f"  {line}")


def main() -> None:
    """Entry point."""
    app()
