"""The crossing families' update (:class:`CrossingUpdater`, for disk-eta and io-crisis): trends re-estimated per series.

Per series long enough for a fit (:func:`refit`, in an executor worker): the saved Prophet
fit with its trend re-estimated on the window (a cold fit for a series new to the model),
and the backtest on the window's tail of that re-estimate and of the saved fit as it is.
Then (:func:`update_trends`): a series keeps its saved fit where the re-estimate scored
worse on that tail; its recent history is the saved one followed by the window; a failed
fit keeps the saved state; series missing from the window are carried over. The gate
holds the served choice against the current version on the tails of the series both
were backtested on: with none, the update fails (:class:`TrainingError`), as a gate
against figures measured on other series and another tail would mean nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from metrics_ai.crossing import TrendState, recent_window
from metrics_ai.entities import Key
from metrics_ai.errors import TrainingError
from metrics_ai.families.base import FamilyConfig, Predictor
from metrics_ai.families.crossing import CrossingConfig
from metrics_ai.prophet_numpy import ProphetState
from training.families.base import Progress, TrainOutcome, no_progress
from training.families.crossing import CrossingBacktest, CrossingFit, backtest
from training.prophet_export import PointFitter
from training.updates.base import UpdateOutcome, Updater, merge_recent, split_sets

Series = tuple[np.ndarray, np.ndarray]
B = TypeVar("B")  # a backtest of one series
C = TypeVar("C", bound=CrossingConfig)
#: what a worker returns: (served fit, candidate's backtest, current version's backtest)
Refit = tuple[ProphetState, B | None, B | None]
#: a worker's argument: (t, v, split, key, config, saved fit); ``key`` is the series' mountpoint or signal
UpdateJob = tuple[np.ndarray, np.ndarray, int, str, Any, ProphetState | None]


@dataclass
class TrendUpdate:
    """What :func:`update_trends` gives a family to build its version from."""

    states: dict[Key, TrendState]
    metrics: dict[str, Any]
    """The candidate's, with ``gate`` on the shared series and ``gate_refits_only``."""
    current_metrics: dict[str, Any]
    """The current version's on the same tails (its ``gate`` is the baseline gate)."""
    skipped: dict[str, str]
    updated: list[str]
    new: list[str]
    stale: list[str]
    kept_fit: list[str] = field(default_factory=list)

    def result(
        self,
        predictor: Predictor,
        config: FamilyConfig,
        entities: list[str],
        note: str,
        components: list[str] | None = None,
    ) -> UpdateOutcome:
        """The family's :class:`UpdateOutcome`: ``predictor`` (built from :attr:`states`) as the new version."""
        outcome = TrainOutcome(predictor, config, self.metrics, entities, components, self.skipped)
        return UpdateOutcome(
            outcome,
            self.current_metrics["gate"],
            self.updated,
            self.new,
            self.stale,
            note=note,
            details={"kept_fit": self.kept_fit},
        )


def refit(
    n: int,
    split: int,
    min_points: int,
    saved: ProphetState | None,
    backtest: Callable[[PointFitter], B],
    fit: Callable[[PointFitter], ProphetState],
) -> Refit[B]:
    """One series of ``n`` points (in a worker): the served fit and the backtests, if ``split`` allows.

    ``backtest`` and ``fit`` are the family's, given the fitter: ``saved``'s trend re-estimated
    (a cold fit without a saved one); the current version's backtest keeps ``saved`` as it is.
    """
    from training.updates.prophet import fit_thinned, keep_fitter, retrend_fitter

    fitter = retrend_fitter(saved) if saved is not None else fit_thinned
    candidate = current = None
    if min_points <= split < n - 1:
        candidate = backtest(fitter)
        if saved is not None:
            current = backtest(keep_fitter(saved))
    return fit(fitter), candidate, current


def refit_series(fit: CrossingFit[Any], job: UpdateJob) -> Refit[CrossingBacktest]:
    """One series (executor worker): (served fit, candidate backtest, current version's backtest)."""
    t, v, split, key, cfg, saved = job
    return refit(
        len(t),
        split,
        cfg.min_points,
        saved,
        lambda fitter: backtest(fit, t, v, split, key, cfg, fitter)[0],
        lambda fitter: fit.fit_prophet(t, v, cfg, fitter),
    )


def update_trends(
    updater: Updater,
    fit: CrossingFit[C],
    cfg: C,
    saved: Mapping[Key, TrendState],
    work: Sequence[tuple[Key, Series]],
    progress: Progress,
) -> TrendUpdate:
    """Update ``saved`` (the current version's states) from ``work`` (the window's series by key).

    Raises:
        TrainingError: no series has backtests of both versions to hold them against each other.
    """
    skipped: dict[str, str] = {}
    jobs = []
    for key, (t, v) in work:
        if len(t) < cfg.min_points:
            skipped[fit.series_name(key)] = f"{len(t)} points in the window; a fit needs at least {cfg.min_points}"
            continue
        old = saved.get(key)
        split = int(len(t) * updater.settings.train_fraction)
        jobs.append((fit.series_name(key), (t, v, split, key[2], cfg, old.prophet if old is not None else None)))
    results = updater.executor.map(partial(refit_series, fit), jobs, f"{fit.spec.name} {fit.nouns}", progress)
    states: dict[Key, TrendState] = {}
    candidates: dict[str, CrossingBacktest] = {}
    baselines: dict[str, CrossingBacktest] = {}
    refits: dict[str, CrossingBacktest] = {}
    kept_fit: list[str] = []
    for key, (t, v) in work:
        name, old = fit.series_name(key), saved.get(key)
        recent = (
            recent_window(t, v, cfg.recent_hours, cfg.recent_step)
            if old is None
            else merge_recent(old.recent, t, v, cfg.recent_hours, cfg.recent_step)
        )
        result = results.get(name)
        if result is None or result.value is None:  # too short, or the fit failed: keep what there is
            if result is not None:
                skipped[name] = f"Prophet update failed: {result.error}"
            if old is not None and old.prophet is not None:
                states[key] = TrendState(old.prophet, recent, old.reason)
            else:
                states[key] = TrendState(None, recent, skipped[name])
            continue
        state, candidate, baseline = result.value
        if candidate is not None and baseline is not None and old is not None and old.prophet is not None:
            refits[name], baselines[name] = candidate, baseline
            if fit.score(candidate) > fit.score(baseline):
                state, candidate = old.prophet, baseline
                kept_fit.append(name)
        if candidate is not None:
            candidates[name] = candidate
        states[key] = TrendState(state, recent)
    if not baselines:
        raise TrainingError(no_shared_series(fit, saved, work))
    fitted = {name for name, result in results.items() if result.value is not None}
    updated, new, stale = split_sets({fit.series_name(key) for key in saved}, fitted)
    for key, kept in saved.items():
        states.setdefault(key, kept)
    metrics = fit.metrics(candidates)
    metrics["gate"] = fit.metrics({name: candidates[name] for name in baselines})["gate"]
    metrics["gate_refits_only"] = fit.metrics(refits)["gate"]
    return TrendUpdate(states, metrics, fit.metrics(baselines), skipped, updated, new, stale, sorted(kept_fit))


def no_shared_series(fit: CrossingFit[Any], saved: Mapping[Key, TrendState], work: Sequence[tuple[Key, Series]]) -> str:
    """Why an update has nothing to gate on (:func:`update_trends`)."""
    both = len(saved.keys() & {key for key, _ in work})
    what = f"no {fit.noun} with the current version"
    counts = f"{len(work)} {fit.nouns} in the window, {len(saved)} in the model"
    if both:
        what, counts = f"{what} that both could be backtested on", f"{counts}, {both} in both"
    return f"{fit.spec.name}: the update window shares {what} ({counts}); run a full training"


class CrossingUpdater(Updater):
    """Trend re-estimate per series; backtest against the current fit on the same tail."""

    fitting: ClassVar[CrossingFit[Any]]

    def update(self, current: Predictor, frame: pd.DataFrame, progress: Progress = no_progress) -> UpdateOutcome:
        """See the module docstring."""
        fit, spec = self.fitting, self.fitting.spec
        assert isinstance(current, fit.predictor)
        cfg = current.config
        work = fit.work(frame)
        if not work:
            raise TrainingError(f"{spec.name}: no {spec.signals_text} series in the update window")
        done = update_trends(self, fit, cfg, current.states, work, progress)
        for name in fit.current_metrics:
            done.metrics[f"{name}_current"] = done.current_metrics[name]
        note = (
            "trend re-estimated on the window unless the saved fit did better on its tail; "
            f"recent {fit.recent_word} extended"
        )
        predictor = fit.predictor(cfg, done.states)
        return done.result(predictor, cfg, fit.entities(done.states), note, fit.component_list())
