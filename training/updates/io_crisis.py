"""io-crisis update: each node signal's trend re-estimated on the latest window.

As disk-eta's update (:mod:`training.updates.disk_eta`): the saved Prophet fit keeps its
seasonal terms and gets a straight-line trend fitted on the window; the full run's
backtest (crisis replay and forecast error on the window's tail) for the re-estimate and
for the saved fit on the same tail; a series keeps its saved fit when the re-estimate did
worse there (more crisis mistakes, or a larger forecast error), else the re-estimate on
the whole window is served; recent history refreshed either way; new series get a cold
Prophet fit; series missing from the window are kept (:mod:`training.updates.crossing`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics_ai.errors import TrainingError
from metrics_ai.families.base import Predictor
from metrics_ai.families.io_crisis import FAMILY as IO_CRISIS
from metrics_ai.families.io_crisis import SIGNALS, IoCrisisConfig, IoCrisisPredictor
from metrics_ai.prophet_numpy import ProphetState
from training.crossing_backtest import errors, series_by
from training.families.base import Progress, no_progress
from training.families.io_crisis import (
    SeriesBacktest,
    backtest_series,
    crisis_metrics,
    fit_series_prophet,
)
from training.updates.base import UpdateOutcome, Updater
from training.updates.crossing import Key, Refit, TrendFamily, refit, update_trends

UpdateJob = tuple[np.ndarray, np.ndarray, int, float, IoCrisisConfig, ProphetState | None]


def update_series(job: UpdateJob) -> Refit[SeriesBacktest]:
    """One series (executor worker): (served fit, candidate backtest, current version's backtest)."""
    t, v, split, threshold, cfg, saved = job
    return refit(
        len(t),
        split,
        cfg.min_points,
        saved,
        lambda fitter: backtest_series(t, v, split, threshold, cfg, fitter),
        lambda fitter: fit_series_prophet(t, v, cfg, fitter),
    )


class IoCrisisUpdater(Updater):
    """Trend re-estimate per node signal; backtest against the current fit on the same tail."""

    family = IO_CRISIS

    def update(self, current: Predictor, frame: pd.DataFrame, progress: Progress = no_progress) -> UpdateOutcome:
        """See the module docstring."""
        assert isinstance(current, IoCrisisPredictor)
        cfg = current.config
        work = [((node, sig), tv) for sig in SIGNALS for (node,), tv in series_by(frame, sig, ("node",)).items()]
        if not work:
            raise TrainingError(f"io-crisis: no {list(SIGNALS)} series in the update window")
        done = update_trends(self, FAMILY, cfg, current.series, work, progress)
        note = "trend re-estimated on the window unless the saved fit did better on its tail; recent history extended"
        return done.result(IoCrisisPredictor(cfg, done.states), cfg, sorted({node for node, _ in done.states}), note)


def series_name(key: Key) -> str:
    """A series' entity name: ``node/signal``."""
    return f"{key[0]}/{key[1]}"


def series_job(
    cfg: IoCrisisConfig, key: Key, t: np.ndarray, v: np.ndarray, split: int, saved: ProphetState | None
) -> UpdateJob:
    """:func:`update_series`'s argument for one series (with its signal's crisis threshold)."""
    return t, v, split, cfg.thresholds[key[1]], cfg, saved


def score(backtest: SeriesBacktest) -> tuple[int, float]:
    """Crisis mistakes on the tail, then the forecast's MAE (lower is better)."""
    d = backtest.detection
    return d.false_positives + d.misses, errors(backtest.actual, backtest.forecast)[0]


FAMILY: TrendFamily[IoCrisisConfig, UpdateJob, SeriesBacktest] = TrendFamily(
    IO_CRISIS.name, "series", "series", series_name, series_job, update_series, score, crisis_metrics
)
