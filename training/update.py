"""The incremental update between full retrains (``python -m training update``).

For each requested model: load the current version (verified, exactly as the predictor
does), read the latest UPDATE_DAYS of data, let the family refresh its models cheaply
(:mod:`training.updates`), backtest on the window's tail, and publish through the same
smoke test, quality gate and atomic switch as a full run (:func:`training.publish.publish`).
The gate holds the candidate against the current version measured on that same tail.

Entities that appeared since the last full retrain are fitted from scratch on the
window; entities missing from it keep their current models and are reported
(``metrics["update"]`` in the new manifest). An update's report has the summary and
the metrics but no backtest plots: it runs hourly, the weekly full run's report has them.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from metrics_ai.artifacts import DataWindow, ModelStore
from metrics_ai.drift import REFERENCE_FILE
from metrics_ai.errors import ArtifactError, TrainingError
from metrics_ai.families import predictor_class
from metrics_ai.manifest import FULL_RUN_GATE, UPDATE
from metrics_ai.settings import DataSource, Settings
from training.executor import describe, make_executor
from training.families.base import Progress
from training.pipeline import FamilyRun
from training.publish import publish
from training.sources import load_data, window_of
from training.updates import updater_class

log = logging.getLogger(__name__)


@dataclass
class FamilyUpdate:
    """One family's update: the run (published, rejected or failed), or kept as it is."""

    run: FamilyRun
    kept: str | None = None
    """Why nothing was published (the family keeps its current version), else None."""


def window_days(settings: Settings) -> float:
    """Days an update reads: UPDATE_DAYS, at least LOOKBACK_HOURS (node-outliers' window)."""
    return max(settings.update_days, settings.lookback_hours / 24.0)


def update_settings(settings: Settings) -> Settings:
    """WORKERS=0 (one per core) means one process for an update, unless RAY_ADDRESS is set.

    An update's per-series work is a fraction of a second (demo profile: 4.4 s for all 33
    forecast series in one process, 11.6 s through a two-process pool whose workers first
    import Prophet and statsmodels); an explicit WORKERS fans it out as a full run does.
    """
    if settings.workers == 0 and not settings.ray_address:
        return settings.model_copy(update={"workers": 1})
    return settings


def latest(frame: pd.DataFrame, days: float) -> pd.DataFrame:
    """The rows of the last ``days`` before the frame's newest timestamp."""
    if frame.empty:
        return frame
    start = frame["timestamp"].max() - pd.Timedelta(days=days)
    return frame[frame["timestamp"] > start].reset_index(drop=True)


def read_latest(
    settings: Settings, source: DataSource, data_path: Path | None, profile: str
) -> tuple[pd.DataFrame, DataWindow]:
    """The latest window from the run's source: Prometheus (alone or in hybrid) is asked for
    those days only; synthetic data and files are read whole and cut.

    (The synthetic generator's trends start at its window start, so it is generated over
    TRAINING_DAYS and cut, not over the update's days; its noise differs run to run.)
    """
    days = window_days(settings)
    frame, window = load_data(settings, source, data_path, profile, days=days)
    frame = latest(frame, days)
    return frame, window_of(frame, window.source, note=f"update: last {days:g} days")


def stale_window(window: DataWindow, trained: DataWindow) -> str | None:
    """Why the window cannot update a version trained on ``trained`` (no newer data), else None."""
    if window.end is None or trained.end is None or window.end > trained.end:
        return None
    return f"kept: no data newer than the current version's (the window ends {window.end}, its data {trained.end})"


def run_update(
    frame: pd.DataFrame,
    data: DataWindow,
    settings: Settings,
    out: Path,
    models: list[str],
    progress_for: Callable[[str], Progress],
) -> list[FamilyUpdate]:
    """Update and publish each model; one family's failure does not stop the others."""
    done: list[FamilyUpdate] = []
    executor = make_executor(update_settings(settings))
    for model in models:
        start = time.perf_counter()
        store = ModelStore(out, model)
        try:
            with store.locked():  # load, update and switch with no other writer in between
                try:
                    manifest, folder = store.verify()
                except ArtifactError as exc:
                    raise TrainingError(
                        f"{model}: no current version to update ({exc.message}); run a full training"
                    ) from None
                stale = stale_window(data, manifest.data)
                if stale:
                    done.append(FamilyUpdate(FamilyRun(model, time.perf_counter() - start), kept=stale))
                    continue
                current = predictor_class(model).load(folder, manifest)
                first = len(executor.records)
                result = updater_class(model)(settings, executor).update(current, frame, progress_for(model))
                if result.outcome is None:
                    done.append(FamilyUpdate(FamilyRun(model, time.perf_counter() - start), kept=result.note))
                    continue
                outcome = result.outcome
                if REFERENCE_FILE in manifest.files:  # the drift reference stays the full run's
                    outcome.extra_files.setdefault(REFERENCE_FILE, partial(shutil.copyfile, folder / REFERENCE_FILE))
                outcome.metrics[UPDATE] = {
                    **result.summary(),
                    "from_version": manifest.version,
                    FULL_RUN_GATE: manifest.full_run_gate,
                }
                if len(executor.records) > first:
                    outcome.metrics["executor"] = describe(executor.name, executor.address, executor.records[first:])
                published = publish(store, outcome, data, settings, baseline_gate=result.baseline_gate)
        except Exception as exc:
            log.exception("%s: update failed", model)
            run = FamilyRun(model, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
            done.append(FamilyUpdate(run))
            continue
        if not published.accepted:
            log.error("%s: update %s rejected: %s", model, published.version, published.reason)
        run = FamilyRun(model, time.perf_counter() - start, outcome, published, figures=outcome.figures)
        done.append(FamilyUpdate(run))
    return done
