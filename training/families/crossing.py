"""Train a crossing family (disk-eta, io-crisis): one Prophet fit per series, a backtest and an alarm replay.

What differs between the families is a :class:`CrossingFit` (the Prophet fit's settings,
the tail forecasts, names, metrics and figure) next to the predictor's
:class:`~metrics_ai.families.crossing.CrossingSpec` (keys, thresholds, the estimate).
Per series long enough for a fit (:func:`fit_series`, in an executor worker): a backtest
on the chronological tail (tail forecasts against its hourly means, and the alarm replay
of :func:`training.crossing_backtest.replay_tail` through the family's own request-path
estimate), then the fit on all its data. Shorter series, and failed fits, are kept
without a Prophet state (listed in ``skipped``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import pandas as pd

from metrics_ai.crossing import DAY, HOUR, TrendState, bin_means, recent_window
from metrics_ai.entities import Key
from metrics_ai.errors import TrainingError
from metrics_ai.families.crossing import CrossingConfig, CrossingPredictor, CrossingSpec
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History
from training.crossing_backtest import DetectionCounts, errors, replay_tail, series_by
from training.families.base import (
    REFERENCE_FILE,
    Progress,
    Trainer,
    TrainOutcome,
    frame_levels,
    level_reference,
    no_progress,
)
from training.prophet_export import PointFitter

C = TypeVar("C", bound=CrossingConfig)
Series = tuple[np.ndarray, np.ndarray]
#: a worker's argument: (t, v, split, key, config); ``key`` is the series' mountpoint or signal
Job = tuple[np.ndarray, np.ndarray, int, str, Any]


@dataclass
class CrossingBacktest:
    """The tail of one series, what each component forecast for it, and the replayed alarms."""

    tail_t: np.ndarray
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    threshold: float
    detection: DetectionCounts


@dataclass(frozen=True)
class CrossingFit(Generic[C]):
    """What one crossing family's training half is (module-level callables: it travels to workers).

    Attributes:
        predictor: the family's predictor class (its ``spec``: keys, signals, thresholds, estimate).
        fit_prophet: (t, v, config, fitter or None) -> the series' Prophet state.
        forecasts: (head t, head v, tail t, the head's fit, config) -> each component's forecast of the tail.
        primary: the component whose error scores a fit (the answer's).
        components: the components a version records (None: not recorded).
        noun: one series, in messages ("disk"); ``nouns``: several ("disks").
        series_name: a key -> the series' entity name (``cluster/node:mount``).
        entities: the keys of a version -> what its manifest lists as entities.
        metrics: backtests by series name -> the family's metrics, with ``gate``.
        figure: backtests by series name -> the report's figure.
        recent_word: what the recent history holds, in an update's note ("usage").
        current_metrics: the current version's metrics an update also records (as ``<name>_current``).
    """

    predictor: type[CrossingPredictor[Any, Any]]
    fit_prophet: Callable[[np.ndarray, np.ndarray, C, PointFitter | None], ProphetState]
    forecasts: Callable[[np.ndarray, np.ndarray, np.ndarray, ProphetState, C], dict[str, np.ndarray]]
    primary: str
    components: tuple[str, ...] | None
    noun: str
    nouns: str
    series_name: Callable[[Key], str]
    entities: Callable[[Iterable[Key]], list[str]]
    metrics: Callable[[dict[str, CrossingBacktest]], dict[str, Any]]
    figure: Callable[[dict[str, CrossingBacktest]], Any]
    recent_word: str
    current_metrics: tuple[str, ...] = ()

    @property
    def spec(self) -> CrossingSpec[Any, Any]:
        """The predictor's spec."""
        return self.predictor.spec

    def work(self, frame: pd.DataFrame) -> list[tuple[Key, Series]]:
        """Every series of the frame by its key, signal by signal."""
        labels = self.spec.labels
        return [
            ((key[0], key[1], key[2]), tv)
            for signal in self.spec.signals
            for key, tv in series_by(frame, signal, labels).items()
        ]

    def score(self, backtest: CrossingBacktest) -> tuple[int, float]:
        """Alarm mistakes on the tail, then the primary forecast's MAE (lower is better)."""
        d = backtest.detection
        return d.false_positives + d.misses, errors(backtest.actual, backtest.forecasts[self.primary])[0]

    def component_list(self) -> list[str] | None:
        """:attr:`components` as a version records them."""
        return None if self.components is None else list(self.components)


def backtest(
    fit: CrossingFit[C], t: np.ndarray, v: np.ndarray, split: int, key: str, cfg: C, fitter: PointFitter | None = None
) -> tuple[CrossingBacktest, ProphetState]:
    """Fit on ``[:split]`` (with ``fitter``: the update's warm refit); forecast the tail's hourly means;
    replay alarms on the tail through the family's request-path estimate."""
    spec = fit.spec
    state = fit.fit_prophet(t[:split], v[:split], cfg, fitter)
    tail_t, actual = bin_means(t[split:], v[split:], HOUR)
    keep = tail_t <= t[split - 1] + cfg.horizon_days * DAY
    tail_t, actual = tail_t[keep], actual[keep]
    forecasts = fit.forecasts(t[:split], v[:split], tail_t, state, cfg)
    threshold = spec.threshold(cfg, key)

    def alarm(ht: np.ndarray, hv: np.ndarray, window: float) -> float | None:
        days = spec.estimate(History(ht, hv), state, cfg, key).days
        return None if days is None else days * DAY

    detection = replay_tail(t, v, split, threshold, cfg.horizon_days * DAY, alarm)
    return CrossingBacktest(tail_t, actual, forecasts, threshold, detection), state


def tail_figure(
    backtests: dict[str, CrossingBacktest],
    names: list[str],
    actual: str,
    styles: dict[str, str],
    threshold: str | None = None,
    ylabel: str | None = None,
) -> Any:
    """One panel per series in ``names``: the tail's ``actual`` values, each component's forecast
    (line style by component) and the threshold, in hours into the held-out tail."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 2.4 * len(names)))
    for i, name in enumerate(names):
        b = backtests[name]
        ax = fig.add_subplot(len(names), 1, i + 1)
        hours = (b.tail_t - b.tail_t[0]) / HOUR
        ax.plot(hours, b.actual, color="black", label=actual)
        for component, style in styles.items():
            ax.plot(hours, b.forecasts[component], label=component, linestyle=style)
        ax.axhline(b.threshold, color="red", linewidth=0.8, label=threshold)
        ax.set_title(name, fontsize=9)
        if ylabel:
            ax.set_ylabel(ylabel)
    fig.axes[0].legend(fontsize=7, loc="upper left")
    fig.axes[-1].set_xlabel("hours into the held-out tail")
    fig.tight_layout()
    return fig


def fit_series(fit: CrossingFit[Any], job: Job) -> tuple[ProphetState, CrossingBacktest | None]:
    """One series' work (in a worker): backtest if the split allows, then the fit on all its data."""
    t, v, split, key, cfg = job
    result = backtest(fit, t, v, split, key, cfg)[0] if cfg.min_points <= split < len(t) - 1 else None
    return fit.fit_prophet(t, v, cfg, None), result


class CrossingTrainer(Trainer):
    """Series with under ``min_points`` samples get no model (listed in ``skipped``)."""

    lookback = "start_hours_ago"

    fitting: ClassVar[CrossingFit[Any]]

    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Backtest on the chronological tail, then refit each series on all its data."""
        fit, spec = self.fitting, self.fitting.spec
        cfg = self.family.config_from(self.settings)
        work = fit.work(frame)
        if not work:
            raise TrainingError(f"{spec.name}: no {spec.signals_text} series in the data")
        states: dict[Key, TrendState] = {}
        skipped: dict[str, str] = {}
        backtests: dict[str, CrossingBacktest] = {}
        jobs = []
        for key, (t, v) in work:
            name = fit.series_name(key)
            if len(t) < cfg.min_points:
                skipped[name] = f"{len(t)} points; a model needs at least {cfg.min_points}"
            else:
                jobs.append((name, (t, v, int(len(t) * self.settings.train_fraction), key[2], cfg)))
        results = self.executor.map(partial(fit_series, fit), jobs, f"{spec.name} {fit.nouns}", progress)
        for key, (t, v) in work:
            name = fit.series_name(key)
            recent = recent_window(t, v, cfg.recent_hours, cfg.recent_step)
            result = results.get(name)
            if result is None or result.value is None:  # too short, or the fit failed: the fallback only
                if result is not None:
                    skipped[name] = f"Prophet fit failed: {result.error}"
                states[key] = TrendState(None, recent, skipped[name])
                continue
            state, tail = result.value
            if tail is not None:
                backtests[name] = tail
            states[key] = TrendState(state, recent)
        if not any(s.prophet for s in states.values()):
            raise TrainingError(f"{spec.name}: no {fit.noun} could be modelled ({skipped})")
        return TrainOutcome(
            predictor=fit.predictor(cfg, states),
            config=cfg,
            metrics=fit.metrics(backtests),
            entities=fit.entities(states),
            components=fit.component_list(),
            skipped=skipped,
            extra_files={REFERENCE_FILE: level_reference(frame_levels(frame, self.family.signals)).write},
            figures={"backtest": fit.figure(backtests)} if backtests else {},
        )
