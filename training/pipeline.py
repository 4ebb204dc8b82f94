"""The training run: for each requested family, fit, backtest and publish."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from metrics_ai.artifacts import DataWindow, ModelStore
from metrics_ai.families import MODEL_NAMES
from metrics_ai.settings import Settings
from training.executor import describe, make_executor
from training.families import trainer_class
from training.families.base import Progress, TrainOutcome
from training.publish import PublishResult, publish
from training.sources import window_of
from training.sources.windows import family_frame

log = logging.getLogger(__name__)


@dataclass
class FamilyRun:
    """The outcome of one family in a run."""

    model: str
    seconds: float
    outcome: TrainOutcome | None = None
    published: PublishResult | None = None
    error: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Trained and accepted: made current, or pending approval (APPROVAL=manual)."""
        return self.error is None and self.published is not None and self.published.accepted


def parse_models(spec: str) -> list[str]:
    """``all`` or a comma list of served model names, validated."""
    if spec.strip() == "all":
        return list(MODEL_NAMES)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown model(s) {unknown}; expected 'all' or names from {list(MODEL_NAMES)}")
    return names


def run_training(
    frame: pd.DataFrame,
    data: DataWindow,
    settings: Settings,
    out: Path,
    models: list[str],
    progress_for: Callable[[str], Progress],
) -> list[FamilyRun]:
    """Train and publish each model; one family's failure does not stop the others.

    One executor serves the whole run (one process pool, one Ray connection); each
    family's manifest records where its fits ran (``metrics["executor"]``). Each family
    trains on its own window of a Prometheus or hybrid read (START_HOURS_AGO for the
    forecasting families, TRAINING_DAYS for the others; :mod:`training.sources.windows`),
    and its manifest's data window says which.
    """
    runs = []
    executor = make_executor(settings)
    for model in models:
        start = time.perf_counter()
        try:
            trainer = trainer_class(model)(settings, executor)
            first = len(executor.records)
            own, own_window = family_data(frame, data, settings, model)
            outcome = trainer.fit(own, progress_for(model))
            if len(executor.records) > first:
                outcome.metrics["executor"] = describe(executor.name, executor.address, executor.records[first:])
            result = publish_family(out, model, outcome, own_window, settings)
        except Exception as exc:
            log.exception("%s: training failed", model)
            runs.append(FamilyRun(model, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}"))
            continue
        if not result.accepted:
            log.error("%s: version %s rejected: %s", model, result.version, result.reason)
        runs.append(FamilyRun(model, time.perf_counter() - start, outcome, result, figures=outcome.figures))
    return runs


def family_data(
    frame: pd.DataFrame, data: DataWindow, settings: Settings, model: str
) -> tuple[pd.DataFrame, DataWindow]:
    """``model``'s rows of the read (:func:`~training.sources.windows.family_frame`) and their window."""
    own = family_frame(frame, settings, trainer_class(model).lookback)
    return own, data if own is frame else window_of(own, data.source, data.note)


def publish_family(out: Path, model: str, outcome: TrainOutcome, data: DataWindow, settings: Settings) -> PublishResult:
    """Publish a trained family into the model root ``out`` under the model's writer lock.

    :func:`~training.publish.publish`: stage, smoke test, quality gate, atomic switch, pruning;
    an update of the same model never switches in between. What ``python -m training run``
    does after each fit (the training notebook calls it too).
    """
    store = ModelStore(out, model)
    with store.locked():
        return publish(store, outcome, data, settings)
