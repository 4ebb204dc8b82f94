"""The run report beside the artifacts: summary JSON, Markdown table, backtest plots."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from metrics_ai.artifacts import DataWindow
from training.pipeline import FamilyRun


def _headline(metrics: dict[str, Any]) -> str:
    """A short text of the scalar metrics."""
    parts = []
    for key, value in metrics.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.3g}")
        elif isinstance(value, int) and not isinstance(value, bool):
            parts.append(f"{key}={value}")
    return ", ".join(parts[:6])


def summary_rows(runs: list[FamilyRun]) -> list[dict[str, Any]]:
    """One row per family: model, status, version, entities, metrics, seconds."""
    rows = []
    for run in runs:
        if run.error:
            status, version, entities, metrics = "FAILED", "-", 0, run.error
        else:
            assert run.outcome is not None and run.published is not None
            status = "current" if run.published.accepted else "REJECTED"
            if run.published.pending:
                status = "PENDING"  # passed, waits for `python -m training approve`
            version = run.published.version
            entities = len(run.outcome.entities)
            metrics = _headline(run.outcome.metrics) + ("" if run.published.accepted else f" ({run.published.reason})")
        rows.append(
            {
                "model": run.model,
                "status": status,
                "version": version,
                "entities": entities,
                "metrics": metrics,
                "seconds": round(run.seconds, 1),
            }
        )
    return rows


#: update reports kept (two days of hourly updates); full runs keep KEEP_VERSIONS reports
KEEP_UPDATE_REPORTS = 48


def write_report(out: Path, runs: list[FamilyRun], data: DataWindow, keep: int, kind: str = "run") -> Path:
    """Write ``<out>/reports/<time>/`` (``reports/updates/<time>/`` for an update): summary.json,
    report.md and one PNG per figure; then delete all but the newest ``keep`` of that kind."""
    base = out / "reports" / ("updates" if kind == "update" else "")
    folder = base / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    prune_reports(base, keep)
    rows = summary_rows(runs)
    lines = [
        "# metrics-ai training report",
        "",
        f"Data: `{data.source}`, {data.rows} rows, {data.entities} entities, {data.start} .. {data.end}",
        "",
        "| model | status | version | entities | metrics | seconds |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['model']} | {r['status']} | {r['version']} | {r['entities']} | {r['metrics']} | {r['seconds']} |"
        for r in rows
    ]
    for run in runs:
        if not run.figures:
            continue
        lines += ["", f"## {run.model}", ""]
        for name, figure in run.figures.items():
            file = f"{run.model}-{name}.png".replace("/", "_")
            figure.savefig(folder / file, dpi=90, bbox_inches="tight")
            lines.append(f"![{name}]({file})")
        import matplotlib.pyplot as plt

        for figure in run.figures.values():
            plt.close(figure)
    (folder / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    full = {
        "data": data.model_dump(mode="json"),
        "models": rows,
        "metrics": {r.model: r.outcome.metrics for r in runs if r.outcome is not None},
    }
    (folder / "summary.json").write_text(json.dumps(full, indent=2, default=str), encoding="utf-8")
    return folder


def prune_reports(base: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` report folders directly under ``base`` (names sort by time)."""
    folders = sorted(p for p in base.iterdir() if p.is_dir() and p.name[:1].isdigit())
    for old in folders[: max(len(folders) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)
