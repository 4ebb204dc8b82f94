"""io-crisis update: each node signal's trend re-estimated on the latest window.

As disk-eta's update (:mod:`training.updates.disk_eta`): the saved Prophet fit keeps its
seasonal terms and gets a straight-line trend fitted on the window; the full run's
backtest (crisis replay and forecast error on the window's tail) for the re-estimate and
for the saved fit on the same tail; a series keeps its saved fit when the re-estimate did
worse there (more crisis mistakes, or a larger forecast error), else the re-estimate on
the whole window is served; recent history refreshed either way; new series get a cold
Prophet fit; series missing from the window are kept.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from metrics_ai.crossing import recent_window
from metrics_ai.errors import TrainingError
from metrics_ai.families.base import Predictor
from metrics_ai.families.io_crisis import SIGNALS, IoCrisisConfig, IoCrisisPredictor, SeriesState
from metrics_ai.prophet_numpy import ProphetState
from training.crossing_backtest import errors, series_by
from training.families.base import Progress, TrainOutcome, no_progress
from training.families.io_crisis import (
    SeriesBacktest,
    backtest_series,
    crisis_metrics,
    fit_series_prophet,
)
from training.updates.base import UpdateOutcome, Updater, merge_recent, split_sets

UpdateJob = tuple[np.ndarray, np.ndarray, int, float, IoCrisisConfig, ProphetState | None]


def update_series(job: UpdateJob) -> tuple[ProphetState, SeriesBacktest | None, SeriesBacktest | None]:
    """One series (executor worker): (served fit, candidate backtest, current version's backtest)."""
    from training.updates.prophet import fit_thinned, keep_fitter, retrend_fitter

    t, v, split, threshold, cfg, saved = job
    fitter = retrend_fitter(saved) if saved is not None else fit_thinned
    candidate = current = None
    if cfg.min_points <= split < len(t) - 1:
        candidate = backtest_series(t, v, split, threshold, cfg, fitter)
        if saved is not None:
            current = backtest_series(t, v, split, threshold, cfg, keep_fitter(saved))
    return fit_series_prophet(t, v, cfg, fitter), candidate, current


class IoCrisisUpdater(Updater):
    """Trend re-estimate per node signal; backtest against the current fit on the same tail."""

    model_name: ClassVar[str] = "io-crisis"

    def update(self, current: Predictor, frame: pd.DataFrame, progress: Progress = no_progress) -> UpdateOutcome:
        """See the module docstring."""
        assert isinstance(current, IoCrisisPredictor)
        cfg = current.config
        work = [((node, sig), tv) for sig in SIGNALS for (node,), tv in series_by(frame, sig, ("node",)).items()]
        if not work:
            raise TrainingError(f"io-crisis: no {list(SIGNALS)} series in the update window")
        skipped: dict[str, str] = {}
        jobs = []
        for (node, signal), (t, v) in work:
            name = f"{node}/{signal}"
            if len(t) < cfg.min_points:
                skipped[name] = f"{len(t)} points in the window; a fit needs at least {cfg.min_points}"
                continue
            old = current.series.get((node, signal))
            split = int(len(t) * self.settings.train_fraction)
            jobs.append((name, (t, v, split, cfg.thresholds[signal], cfg, old.prophet if old else None)))
        results = self.executor.map(update_series, jobs, "io-crisis series", progress)
        states: dict[tuple[str, str], SeriesState] = {}
        candidates: dict[str, SeriesBacktest] = {}
        baselines: dict[str, SeriesBacktest] = {}
        refits: dict[str, SeriesBacktest] = {}
        kept_fit: list[str] = []
        for (node, signal), (t, v) in work:
            name, old = f"{node}/{signal}", current.series.get((node, signal))
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
                    states[(node, signal)] = SeriesState(old.prophet, recent, old.reason)
                else:
                    states[(node, signal)] = SeriesState(None, recent, skipped[name])
                continue
            state, candidate, baseline = result.value
            if candidate is not None and baseline is not None and old is not None and old.prophet is not None:
                refits[name], baselines[name] = candidate, baseline
                if score(candidate) > score(baseline):
                    state, candidate = old.prophet, baseline
                    kept_fit.append(name)
            if candidate is not None:
                candidates[name] = candidate
            states[(node, signal)] = SeriesState(state, recent)
        fitted = {name for name, result in results.items() if result.value is not None}
        updated, new, stale = split_sets({f"{n}/{s}" for n, s in current.series}, fitted)
        for key, state in current.series.items():
            states.setdefault(key, state)
        metrics = crisis_metrics(candidates)
        baseline_gate = None
        if baselines:
            metrics["gate"] = crisis_metrics({name: candidates[name] for name in baselines})["gate"]
            baseline_gate = crisis_metrics(baselines)["gate"]
            metrics["gate_refits_only"] = crisis_metrics(refits)["gate"]
        outcome = TrainOutcome(
            predictor=IoCrisisPredictor(cfg, states),
            config=cfg,
            metrics=metrics,
            entities=sorted({node for node, _ in states}),
            skipped=skipped,
        )
        return UpdateOutcome(
            outcome,
            baseline_gate,
            updated,
            new,
            stale,
            note="trend re-estimated on the window unless the saved fit did better on its tail; "
            "recent history extended",
            details={"kept_fit": sorted(kept_fit)},
        )


def score(backtest: SeriesBacktest) -> tuple[int, float]:
    """Crisis mistakes on the tail, then the forecast's MAE (lower is better)."""
    d = backtest.detection
    return d.false_positives + d.misses, errors(backtest.actual, backtest.forecast)[0]
