"""What a family's training half provides to the pipeline."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from metrics_ai.drift import REFERENCE_FILE, Reference, build_reference
from metrics_ai.drift_features import level_samples
from metrics_ai.families.base import Family, FamilyConfig, Predictor
from metrics_ai.settings import Settings
from training.progress import Progress, no_progress
from training.sources.windows import Lookback

if TYPE_CHECKING:
    from training.executor import LocalExecutor, RayExecutor

__all__ = ["REFERENCE_FILE", "Progress", "TrainOutcome", "Trainer", "level_reference", "no_progress"]


@dataclass
class TrainOutcome:
    """A fitted, backtested family ready to publish.

    Attributes:
        predictor: the serving-side state (saved into the version folder).
        config: hyper-parameters (the manifest's ``config``).
        metrics: backtest figures (the manifest's ``metrics``; the quality gate reads
            ``metrics["gate"]``: {name: value, lower is better, scale-free: rates or
            relative errors; see ``training.publish.gate_reason``}).
        entities: what the model knows (clusters, nodes, series ids).
        components: which components took part (resource-forecast), else None.
        skipped: entity -> reason it got no model (e.g. single-node cluster).
        extra_files: name -> writer(path) for files beyond ``predictor.save``
            (model.pkl, report plots go to the report, not here).
        figures: name -> matplotlib Figure for the run's report.
    """

    predictor: Predictor
    config: FamilyConfig
    metrics: dict[str, Any]
    entities: list[str]
    components: list[str] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    extra_files: dict[str, Callable[[Path], None]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


class Trainer(ABC):
    """Fits one family on the canonical long frame, with a chronological backtest."""

    family: ClassVar[Family[Any]]
    """The family this trains (name, config, signals): ``training.families`` finds it by this."""

    lookback: ClassVar[Lookback] = "training_days"
    """The setting its training window comes from (forecasting families: START_HOURS_AGO)."""

    def __init__(self, settings: Settings, executor: LocalExecutor | RayExecutor | None = None) -> None:
        self.settings = settings
        self._executor = executor

    @property
    def executor(self) -> LocalExecutor | RayExecutor:
        """Where independent per-series fits go (the run's, else one from settings: local or Ray)."""
        if self._executor is None:
            from training.executor import make_executor

            self._executor = make_executor(self.settings)
        return self._executor

    @abstractmethod
    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Train on ``frame`` (split chronologically), backtest on its tail.

        Raises:
            TrainingError: when the data cannot give this family a model.
        """


def level_reference(series: Iterable[tuple[str, np.ndarray]]) -> Reference:
    """A forecast family's drift reference: each signal's input levels over the (signal, values) it fitted."""
    levels: dict[str, list[np.ndarray]] = {}
    for signal, values in series:
        levels.setdefault(signal, []).append(np.asarray(values, dtype=np.float64))
    return build_reference(level_samples({s: np.concatenate(parts) for s, parts in levels.items()}))


def frame_levels(frame: pd.DataFrame, signals: tuple[str, ...]) -> list[tuple[str, np.ndarray]]:
    """(signal, every value of it) for each of ``signals`` in a canonical long frame."""
    rows = frame[frame["signal"].isin(list(signals))]
    return [(str(s), g["value"].to_numpy(dtype=np.float64)) for s, g in rows.groupby("signal", observed=True)]
