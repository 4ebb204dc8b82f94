"""resource-forecast update: each component refreshed from the saved version on the latest window.

Per series, on the window's training part (TRAIN_FRACTION of UPDATE_DAYS, chronological,
as in a full run), with the saved hyper-parameters (the current version's config):

- Prophet: refitted warm from the saved fit, the weekly terms carried
  (:mod:`training.updates.prophet`);
- ARIMA(2,1,0): re-estimated with Burg's method, which agrees with the full run's MLE
  to about three decimals at a few per cent of its cost;
- LSTM: the saved network (per series, or pooled per node signal) fine-tuned for
  :data:`FINE_TUNE_EPOCHS` epochs on the window's windows (:data:`FINE_TUNE_WINDOWS` of
  a full run's count), Keras model rebuilt from the saved NumPy weights
  (:class:`training.families.forecast.finetune.FineTuner`; kept as saved if the validation loss rose).

The window's tail is the backtest, through the full run's own calibration and test code
(:func:`training.families.forecast.backtest.backtest`); the gate holds the candidate's figure over
the series the current version also has against the current version's on the same test
cuts, answered as it serves (its saved anchor, weights and combiner).

A series new to the window is fitted from scratch (Prophet cold, the pooled LSTM
fine-tuned on its windows too, a per-series LSTM trained fully). A series missing from the
window, or whose update failed, keeps its current model: its Prophet and ARIMA fits, its
scaling and its own network; a pooled network is shared by the signal's series, so it
answers with the pool's fine-tuned one. A window that shares no series with the current
version is no update (there is nothing to hold it against): run a full training.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from metrics_ai.errors import TrainingError
from metrics_ai.families.base import Predictor
from metrics_ai.families.forecast import FAMILY, ForecastPredictor
from metrics_ai.families.forecast.combiner import Combiner
from metrics_ai.families.forecast.components import ARIMA, LSTM, PROPHET
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.families.forecast.state import ForecastState
from metrics_ai.lstm_numpy import NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState
from training.families.base import Progress, TrainOutcome, no_progress
from training.families.forecast import ForecastTrainer
from training.families.forecast.backtest import Backtest, Fitted, forecasts, targets
from training.families.forecast.finetune import FineTuner
from training.families.forecast.fitting import PER_SERIES, PROPHET_FIT, SeriesFit, fit_arima_state, require_components
from training.families.forecast.series import SeriesData, forecast_series
from training.families.forecast.trainer import with_fit
from training.updates.base import UpdateOutcome, Updater

#: epochs a saved LSTM is fine-tuned for (the original forecast mode: 2, on its last 2 days)
FINE_TUNE_EPOCHS = 2
#: backtest cut points per series and window (the full run's ``max_cuts`` is 1,000)
MAX_CUTS = 120
#: the full run's gate figure (mean over series of ensemble MAE / mean absolute level)
GATE = "mae_ensemble_rel"
#: share of a full run's LSTM windows (``lstm_max_windows``, ``lstm_pooled_max_windows``) a
#: fine-tune sees: strided over the same days, newest kept
FINE_TUNE_WINDOWS = 0.5


def update_components(item: tuple[SeriesData, int, ForecastConfig, ProphetState | None]) -> SeriesFit:
    """Prophet (warm from ``item[3]``, cold when None) and ARIMA (Burg) of one series (executor worker)."""
    from training.updates.prophet import warm_fitter

    data, n_train, cfg, saved = item
    prophet = None
    if PROPHET.name in cfg.components:
        prophet = PROPHET_FIT.fit(data, n_train, cfg, warm_fitter(saved) if saved is not None else None)
    arima = None
    if ARIMA.name in cfg.components:
        first = max(0, n_train - cfg.arima_fit_points)
        arima = fit_arima_state(data.y[first:n_train], cfg.arima_order, method="burg")
    return SeriesFit(prophet, arima)


def served_error(fit: Fitted, state: ForecastState, candidate: Backtest, cfg: ForecastConfig) -> float:
    """The current version's relative ensemble MAE on the candidate's test cuts, as it serves.

    ``fit`` holds the saved components (:func:`as_saved`); the saved Prophet anchor,
    ensemble weights and combiner are used as they are (no re-calibration), so this is
    what the current version would have answered over the tail. Same figure as the
    backtest's ``mae_ensemble_rel``: MAE over the mean absolute level of the targets.
    """
    saved = state.series[(fit.data.entity, fit.data.signal)]
    cuts = candidate.test_cuts
    actual = targets(fit.data.y, cuts, fit.horizon)
    ensemble = Combiner(cfg.weighting).combine(forecasts(fit, cuts, saved.anchor, cfg.seq_len), saved.weights)
    return float(np.mean(np.abs(ensemble - actual)) / max(float(np.mean(np.abs(actual))), 1e-12))


def as_saved(fit: Fitted, state: ForecastState) -> Fitted:
    """The same window with the current version's components (to backtest it on the same tail)."""
    saved = state.series[(fit.data.entity, fit.data.signal)]
    return Fitted(
        fit.data,
        fit.n_train,
        fit.cal_start,
        fit.horizon,
        prophet=saved.prophet,
        arima=saved.arima,
        lstm_key=saved.lstm,
        lstm=state.lstms.get(saved.lstm) if saved.lstm else None,
        scaler=saved.scaler,
    )


class ForecastUpdater(Updater):
    """Warm Prophet, Burg ARIMA, fine-tuned LSTM; backtest; gate against the current version."""

    family = FAMILY

    def update(self, current: Predictor, frame: pd.DataFrame, progress: Progress = no_progress) -> UpdateOutcome:
        """See the module docstring."""
        assert isinstance(current, ForecastPredictor)
        cfg, saved = current.config, current.state
        require_components(cfg.components)
        trainer = ForecastTrainer(self.settings, self._executor)
        fits, skipped = trainer._prepare(forecast_series(frame, cfg.step), cfg)
        if not fits:
            raise TrainingError(f"resource-forecast: no series in the window is long enough ({skipped or 'no data'})")
        timing: dict[str, float] = {}
        start = time.perf_counter()
        if set(PER_SERIES) & set(cfg.components):
            fits = self._components(fits, cfg, saved, skipped, progress)
        timing["prophet_arima_s"] = time.perf_counter() - start
        start = time.perf_counter()
        lstms: dict[str, NumpyLSTM] = {}
        lstm_info: dict[str, Any] = {}
        if LSTM.name in cfg.components:
            fewer = cfg.model_copy(
                update={
                    "lstm_max_windows": max(16, int(cfg.lstm_max_windows * FINE_TUNE_WINDOWS)),
                    "lstm_pooled_max_windows": max(16, int(cfg.lstm_pooled_max_windows * FINE_TUNE_WINDOWS)),
                }
            )
            fits, lstms, lstm_info = trainer._fit_lstms(
                fits, fewer, progress, warm=saved.lstms, warm_epochs=FINE_TUNE_EPOCHS, trainer_class=FineTuner
            )
        timing["lstm_s"] = time.perf_counter() - start
        start = time.perf_counter()
        cuts = cfg.model_copy(update={"max_cuts": min(cfg.max_cuts, MAX_CUTS)})
        fits, results = trainer._backtest(fits, cuts, skipped, progress)
        # a series now at another native step than its saved model cannot be held against it
        known = [f for f in fits if _saved_step(saved, f) == f.data.step]
        if not known:
            raise TrainingError(
                f"resource-forecast: the update window shares no series with the current version "
                f"({len(fits)} in the window, {len(saved.series)} in the model); run a full training"
            )
        baseline = {f.data.key: served_error(as_saved(f, saved), saved, results[f.data.key], cfg) for f in known}
        state = trainer._state(fits, results, lstms, cuts)  # (the pools' fallback backtest on the same cuts)
        timing["backtest_s"] = time.perf_counter() - start
        carried = carry_over(state, saved)  # missing from the window, or failed to update (``skipped`` says)
        metrics = trainer._metrics(fits, results, cfg, lstm_info, timing)
        metrics["fallback"] = {signal: pool.backtest for signal, pool in state.pools.items()}
        baseline_gate = None
        if known:
            metrics["gate"] = self._gate(trainer, known, results, cfg)
            baseline_gate = {GATE: float(np.mean(list(baseline.values())))}
        names = {(f.data.entity, f.data.signal): f.data.key for f in fits}
        outcome = TrainOutcome(
            predictor=ForecastPredictor(cfg, state),
            config=cfg,
            metrics=metrics,
            entities=sorted(f"{signal}/{entity}" for entity, signal in state.series),
            components=list(cfg.components),
            skipped=skipped,
        )
        return UpdateOutcome(
            outcome,
            baseline_gate,
            updated=sorted(names[k] for k in names if k in saved.series),
            new=sorted(names[k] for k in names if k not in saved.series),
            kept_stale=sorted(f"{signal}/{entity}" for entity, signal in carried),
            note=f"Prophet warm refit, ARIMA Burg re-estimate, LSTM fine-tuned {FINE_TUNE_EPOCHS} epochs",
        )

    def _components(
        self,
        fits: list[Fitted],
        cfg: ForecastConfig,
        saved: ForecastState,
        skipped: dict[str, str],
        progress: Progress,
    ) -> list[Fitted]:
        """Prophet + ARIMA per series through the executor; a failed series keeps its current model."""
        jobs = []
        for f in fits:
            old = saved.series.get((f.data.entity, f.data.signal))
            jobs.append((f.data.key, (f.data, f.n_train, cfg, old.prophet if old is not None else None)))
        results = self.executor.map(update_components, jobs, "resource-forecast prophet+arima", progress)
        kept = []
        for f in fits:
            result = results[f.data.key]
            if result.value is None:
                skipped[f.data.key] = f"prophet/arima update failed: {result.error}"
                continue
            kept.append(with_fit(f, result.value))
        if not kept:
            raise TrainingError(f"resource-forecast: every series failed to update ({skipped})")
        return kept

    @staticmethod
    def _gate(
        trainer: ForecastTrainer, fits: list[Fitted], results: dict[str, Backtest], cfg: ForecastConfig
    ) -> dict[str, Any]:
        """The full run's gate figure over ``fits`` only."""
        subset = {f.data.key: results[f.data.key] for f in fits}
        gate: dict[str, Any] = trainer._metrics(fits, subset, cfg, {}, {})["gate"]
        if set(gate) != {GATE}:
            raise TrainingError(f"resource-forecast update: the gate figures changed ({sorted(gate)}), expected {GATE}")
        return gate


def _saved_step(saved: ForecastState, fit: Fitted) -> float | None:
    """The step the current version fitted ``fit``'s series at (None: not in it)."""
    series = saved.series.get((fit.data.entity, fit.data.signal))
    return None if series is None else series.step


def carry_over(state: ForecastState, saved: ForecastState) -> list[tuple[str, str]]:
    """Put the saved series the update did not fit (with their networks and pools) into ``state``.

    Returns:
        The carried series' (entity, signal) keys.
    """
    carried = []
    for key, series in saved.series.items():
        if key in state.series:
            continue
        state.series[key] = series
        own = series.lstm is not None and not series.lstm.startswith("pooled/")
        if series.lstm and (own or series.lstm not in state.lstms):  # its own network goes with its scaling
            state.lstms[series.lstm] = saved.lstms[series.lstm]
        carried.append(key)
    for signal, pool in saved.pools.items():
        if signal not in state.pools:
            state.pools[signal] = pool
            for name in pool.lstms:
                state.lstms.setdefault(name, saved.lstms[name])
    return sorted(carried)
