"""What a family's incremental update provides to :mod:`training.update`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from metrics_ai.crossing import recent_window
from metrics_ai.families.base import Family, Predictor
from metrics_ai.series import History
from metrics_ai.settings import Settings
from training.families.base import Progress, TrainOutcome, no_progress

if TYPE_CHECKING:
    from training.executor import LocalExecutor, RayExecutor


@dataclass
class UpdateOutcome:
    """A family's update, ready to publish (or deliberately nothing to publish).

    Attributes:
        outcome: the new version (as a full run's :class:`TrainOutcome`), or None when the
            family keeps its current version as it is (``note`` says why).
        baseline_gate: the current version's gate figures measured on the same recent tail
            as ``outcome.metrics["gate"]`` (None: hold against the current manifest's).
        updated: entities whose models were updated from the current version.
        new: entities that appeared since: fitted from scratch on the window.
        kept_stale: entities whose current models are carried over unchanged: absent from
            the window (until the next full retrain drops them), or failed to update
            (``outcome.skipped`` says why).
        note: how this family updates (recorded in the manifest).
        details: anything else the family reports under ``metrics["update"]``.
    """

    outcome: TrainOutcome | None
    baseline_gate: dict[str, Any] | None = None
    updated: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    kept_stale: list[str] = field(default_factory=list)
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What the manifest records under ``metrics["update"]``."""
        return {
            "updated": len(self.updated),
            "new": sorted(self.new),
            "kept_stale": sorted(self.kept_stale),
            "baseline_gate": self.baseline_gate,
            "note": self.note,
            **self.details,
        }


class Updater(ABC):
    """Refreshes one family's current version from the latest window, cheaply."""

    family: ClassVar[Family[Any]]
    """The family this updates: ``training.updates`` finds it by this."""

    def __init__(self, settings: Settings, executor: LocalExecutor | RayExecutor | None = None) -> None:
        self.settings = settings
        self._executor = executor

    @property
    def executor(self) -> LocalExecutor | RayExecutor:
        """Where per-series updates go (the run's, else one from settings)."""
        if self._executor is None:
            from training.executor import make_executor

            self._executor = make_executor(self.settings)
        return self._executor

    @abstractmethod
    def update(self, current: Predictor, frame: pd.DataFrame, progress: Progress = no_progress) -> UpdateOutcome:
        """Update ``current`` (the loaded current version) from ``frame`` (the latest window).

        Raises:
            TrainingError: the window cannot give this family an update.
        """


def split_sets(old: set[str], fitted: set[str]) -> tuple[list[str], list[str], list[str]]:
    """(updated, new, kept_stale) entity names from the current version's and the update's."""
    return sorted(old & fitted), sorted(fitted - old), sorted(old - fitted)


def merge_recent(old: History, t: np.ndarray, v: np.ndarray, hours: float, step: int) -> History:
    """The last ``hours`` at ``step`` seconds of the saved recent history followed by the window.

    A window shorter than ``hours`` still leaves a full recent history behind.
    """
    if len(t) == 0:
        return old
    before = old.timestamps < t[0]
    joined_t = np.concatenate([old.timestamps[before], np.asarray(t, dtype=np.float64)])
    joined_v = np.concatenate([old.values[before], np.asarray(v, dtype=np.float64)])
    return recent_window(joined_t, joined_v, hours, step)
