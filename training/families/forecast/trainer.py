"""Train resource-forecast: Prophet + ARIMA(2,1,0) + LSTM per series, backtested ensemble.

One frame's path: :func:`~training.families.forecast.series.forecast_series` cuts it into
regular series at their native steps; :meth:`ForecastTrainer._prepare` splits each
chronologically at TRAIN_FRACTION (the last ``calibration_fraction`` of the training part
calibrates, the tail is the backtest); the component fitters
(:mod:`training.families.forecast.fitting`) fit Prophet and ARIMA per series through the
executor and the LSTMs per group (:mod:`training.families.forecast.lstm`: per series for
cpu/memory, one pooled network per node signal); :mod:`training.families.forecast.backtest`
calibrates and scores each series; :meth:`ForecastTrainer._state` builds the served state
and the signals' pools. Each stage returns new immutable results (:class:`Fitted`,
:class:`Backtest`).

Every component in FORECAST_COMPONENTS must run: a fitting library that cannot be
imported is a :class:`TrainingError`, never a silently smaller ensemble.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.errors import TrainingError
from metrics_ai.families.forecast import FAMILY, ForecastPredictor
from metrics_ai.families.forecast.combiner import pool_weights
from metrics_ai.families.forecast.components import ARIMA, COMPONENTS, LSTM, NAMES
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.families.forecast.numeric import MinMax
from metrics_ai.families.forecast.state import ForecastState, SeriesModel, SignalPool
from metrics_ai.lstm_numpy import NumpyLSTM
from training.families.base import REFERENCE_FILE, Progress, Trainer, TrainOutcome, level_reference, no_progress
from training.families.forecast.backtest import Backtest, Fitted, backtest_job, fallback_backtest
from training.families.forecast.figures import backtest_figure, pick_for_figures
from training.families.forecast.fitting import PER_SERIES, SeriesFit, fit_components, require_components
from training.families.forecast.groups import fitted_steps, lstm_key, pool_members
from training.families.forecast.lstm import LstmTrainer, build_windows
from training.families.forecast.series import SeriesData, forecast_series

#: backtest figures a series' saved state and the signal pools publish
_PUBLIC = (
    "mae_ensemble",
    "rmse_ensemble",
    *(f"mae_{name}" for name in NAMES),
    "mae_naive",
    "mae_seasonal_naive",
    "coverage_80",
    "cuts",
)
#: components a signal's pool serves an unseen entity with
_POOLED = tuple(c.name for c in COMPONENTS if c.pooled)


class ForecastTrainer(Trainer):
    """Fits every series' components, backtests them and builds the served state."""

    lookback = "start_hours_ago"

    family = FAMILY

    def config(self) -> ForecastConfig:
        """Hyper-parameters from settings."""
        return FAMILY.config_from(self.settings)

    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Fit, backtest, and assemble the predictor (see the module docstring)."""
        cfg = self.config()
        require_components(cfg.components)
        timing: dict[str, float] = {}
        fits, skipped = self._prepare(forecast_series(frame, cfg.step), cfg)
        if not fits:
            raise TrainingError(f"resource-forecast: no series long enough to train ({skipped or 'no data'})")
        start = time.perf_counter()
        if set(PER_SERIES) & set(cfg.components):
            fits = self._fit_components(fits, cfg, skipped, progress)
        timing["prophet_arima_s"] = time.perf_counter() - start
        start = time.perf_counter()
        lstms: dict[str, NumpyLSTM] = {}
        lstm_info: dict[str, Any] = {}
        if LSTM.name in cfg.components:
            fits, lstms, lstm_info = self._fit_lstms(fits, cfg, progress)
        timing["lstm_s"] = time.perf_counter() - start
        start = time.perf_counter()
        fits, results = self._backtest(fits, cfg, skipped, progress)
        state = self._state(fits, results, lstms, cfg)  # includes the fallback's backtest
        timing["backtest_s"] = time.perf_counter() - start
        metrics = self._metrics(fits, results, cfg, lstm_info, timing)
        metrics["fallback"] = {signal: pool.backtest for signal, pool in state.pools.items()}
        figures = {
            f"forecast_{f.data.signal}_{f.data.entity}": backtest_figure(f, results[f.data.key])
            for f in pick_for_figures(fits)
        }
        return TrainOutcome(
            predictor=ForecastPredictor(cfg, state),
            config=cfg,
            metrics=metrics,
            entities=[f.data.key for f in fits],
            components=list(cfg.components),
            skipped=skipped,
            extra_files={REFERENCE_FILE: level_reference((f.data.signal, f.data.y) for f in fits).write},
            figures=figures,
        )

    def _prepare(self, series: list[SeriesData], cfg: ForecastConfig) -> tuple[list[Fitted], dict[str, str]]:
        """Each long enough series split into training, calibration and test parts (the others skipped)."""
        fits, skipped = [], {}
        for d in series:
            h = cfg.horizon_at(d.step)
            n_train = int(d.y.size * self.settings.train_fraction)
            cal_start = n_train - int(n_train * cfg.calibration_fraction)
            need = cfg.seq_len + h + 16
            if cal_start < need or n_train - cal_start < h + 2 or d.y.size - n_train < h + 2:
                skipped[d.key] = (
                    f"{d.y.size} points: too short (training part needs > {need / (1 - cfg.calibration_fraction):.0f})"
                )
                continue
            fits.append(Fitted(d, n_train, cal_start, h))
        return fits, skipped

    def _fit_components(
        self, fits: list[Fitted], cfg: ForecastConfig, skipped: dict[str, str], progress: Progress
    ) -> list[Fitted]:
        """Prophet + ARIMA per series through the executor (processes or Ray).

        A series whose fit fails is skipped (and says why), never fatal for the others.
        """
        jobs = [(f.data.key, (f.data, f.n_train, cfg)) for f in fits]
        results = self.executor.map(fit_components, jobs, "resource-forecast prophet+arima", progress)
        kept = []
        for f in fits:
            result = results[f.data.key]
            if result.value is None:
                skipped[f.data.key] = f"prophet/arima fit failed: {result.error}"
                continue
            kept.append(with_fit(f, result.value))
        if not kept:
            raise TrainingError(f"resource-forecast: every series failed to fit ({skipped})")
        return kept

    def _backtest(
        self, fits: list[Fitted], cfg: ForecastConfig, skipped: dict[str, str], progress: Progress
    ) -> tuple[list[Fitted], dict[str, Backtest]]:
        """Every series' backtest through the executor (NumPy forecasts: one core per task)."""
        jobs = [(f.data.key, (f, cfg)) for f in fits]
        done = self.executor.map(backtest_job, jobs, "resource-forecast backtest", progress)
        kept, results = [], {}
        for f in fits:
            result = done[f.data.key]
            if result.value is None:
                skipped[f.data.key] = f"backtest failed: {result.error}"
                continue
            kept.append(f)
            results[f.data.key] = result.value
        if not kept:
            raise TrainingError(f"resource-forecast: no series could be backtested ({skipped})")
        return kept, results

    def _fit_lstms(
        self,
        fits: list[Fitted],
        cfg: ForecastConfig,
        progress: Progress,
        warm: Mapping[str, NumpyLSTM] | None = None,
        warm_epochs: int = 2,
        trainer_class: type[LstmTrainer] = LstmTrainer,
    ) -> tuple[list[Fitted], dict[str, NumpyLSTM], dict[str, Any]]:
        """Per-series networks for the few cluster series, one pooled network per node signal.

        Returns the series with their network and scaling, the networks by key, and their figures.

        A network found in ``warm`` (the update's saved weights) is fine-tuned for
        ``warm_epochs`` from there instead of trained from scratch (by ``trainer_class``,
        the update's :class:`training.updates.lstm.FineTuner`).
        """
        groups: dict[str, list[Fitted]] = {}
        per_window = cfg.lstm_scaling == "window"
        for f in fits:
            scaled = dataclasses.replace(f, scaler=None if per_window else MinMax.fit(f.data.y[: f.n_train]))
            groups.setdefault(lstm_key(f.data, cfg), []).append(scaled)
        nets: dict[str, NumpyLSTM] = {}
        info: dict[str, Any] = {}
        trainers: dict[int, LstmTrainer] = {}
        for key, members in groups.items():
            pooled = key.startswith("pooled/")
            horizon = members[0].horizon  # one step per group (lstm_key), so one horizon
            if horizon not in trainers:
                trainers[horizon] = trainer_class(cfg.seq_len, horizon, cfg.lstm_units, self.settings.seed)
            trainer = trainers[horizon]
            windows = build_windows(
                [m.scaler.scale(m.data.y[: m.n_train]) if m.scaler else m.data.y[: m.n_train] for m in members],
                [m.cal_start for m in members],
                cfg.seq_len,
                horizon,
                cfg.lstm_pooled_max_windows if pooled else cfg.lstm_max_windows,
                per_window,
            )
            init = (warm or {}).get(key)
            if init is not None and init.horizon != horizon:  # saved at another step: train afresh
                init = None
            nets[key], info[key] = trainer.fit(
                windows,
                epochs=cfg.lstm_epochs if init is None else min(warm_epochs, cfg.lstm_epochs),
                patience=cfg.lstm_patience,
                batch=cfg.lstm_pooled_batch if pooled else cfg.lstm_batch,
                init=init,
            )
            progress(1, len(groups), "resource-forecast lstm networks")
        done = {m.data.key: dataclasses.replace(m, lstm_key=k, lstm=nets[k]) for k, ms in groups.items() for m in ms}
        return [done[f.data.key] for f in fits], nets, info

    def _state(
        self,
        fits: list[Fitted],
        results: dict[str, Backtest],
        lstms: dict[str, NumpyLSTM],
        cfg: ForecastConfig,
    ) -> ForecastState:
        series: dict[tuple[str, str], SeriesModel] = {}
        for f in fits:
            bt, d = results[f.data.key], f.data
            series[(d.entity, d.signal)] = SeriesModel(
                entity=d.entity,
                signal=d.signal,
                labels=d.labels,
                step=float(d.step),
                prophet=f.prophet,
                anchor=bt.anchor,
                arima=f.arima,
                lstm=f.lstm_key,
                scaler=f.scaler,
                weights=bt.weights,
                rel_halfwidth=bt.rel_halfwidth,
                scale=_scale(d.y[: f.n_train]),
                backtest={k: bt.metrics[k] for k in _PUBLIC if k in bt.metrics},
                last_t=d.t[-cfg.state_points :],
                last_y=d.y[-cfg.state_points :],
                gated=bt.gated,
            )
        pools = {}
        for signal in dict.fromkeys(f.data.signal for f in fits):
            members = pool_members([f for f in fits if f.data.signal == signal])
            bts = [results[f.data.key] for f in members]
            # over the members that have the component (one may be gated or unfitted for a series)
            weights = pool_weights((b.weights for b in bts), _POOLED)
            rel = np.median([b.rel_halfwidth for b in bts], axis=0)
            pools[signal] = SignalPool(
                signal=signal,
                step=float(members[0].data.step),
                arima=(
                    ArimaState.pooled([f.arima for f in members if f.arima]) if ARIMA.name in cfg.components else None
                ),
                lstms=sorted({f.lstm_key for f in members if f.lstm_key}),
                weights=weights,
                rel_halfwidth=rel,
            )
            # what an unseen entity gets, measured on every member's tail
            runs = [fallback_backtest(f, results[f.data.key], pools[signal], lstms, cfg) for f in members]
            runs = [r for r in runs if r]
            if runs:
                pools[signal].backtest = {k: float(np.mean([r[k] for r in runs])) for k in _PUBLIC if k in runs[0]}
                pools[signal].backtest["mae_ensemble_rel"] = float(
                    np.mean([r["mae_ensemble"] / max(r["mean_abs_level"], 1e-12) for r in runs])
                )
        return ForecastState(series, pools, lstms)

    def _metrics(
        self,
        fits: list[Fitted],
        results: dict[str, Backtest],
        cfg: ForecastConfig,
        lstm_info: dict[str, Any],
        timing: dict[str, float],
    ) -> dict[str, Any]:
        per = {k: _clean(bt.metrics) for k, bt in results.items()}

        def mean_rel(name: str) -> float | None:
            vals = [m[name] / max(m["mean_abs_level"], 1e-12) for m in per.values() if m.get(name) is not None]
            return float(np.mean(vals)) if vals else None

        rel = {
            name: mean_rel(f"mae_{name}")
            for name in (
                *NAMES,
                "ensemble",
                "ensemble_equal",
                "ensemble_backtest",
                "ensemble_median",
                "naive",
                "seasonal_naive",
            )
        }
        cover = [m["coverage_80"] for m in per.values() if m.get("coverage_80") is not None]
        return {
            "series": per,
            "mae_rel": {k: v for k, v in rel.items() if v is not None},
            "mae_ensemble_rel": rel["ensemble"],
            "coverage_80": float(np.mean(cover)) if cover else None,
            "weighting": cfg.weighting,
            "components": list(cfg.components),
            "lstm": lstm_info,
            "timing_s": {k: round(v, 2) for k, v in timing.items()},
            "step_seconds": fitted_steps(fits),
            "gate": {"mae_ensemble_rel": rel["ensemble"]},
        }


def with_fit(fit: Fitted, result: SeriesFit) -> Fitted:
    """``fit`` with its Prophet and ARIMA fits (a new stage result)."""
    return dataclasses.replace(fit, prophet=result.prophet, arima=result.arima)


def _scale(y: np.ndarray) -> float:
    """Mean absolute one-step change (the unit of pooled interval widths)."""
    return float(np.mean(np.abs(np.diff(y)))) if y.size > 1 else 0.0


def _clean(metrics: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe: floats, NaN -> None."""
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        if isinstance(v, float | np.floating):
            out[k] = float(v) if np.isfinite(v) else None
        else:
            out[k] = v
    return out
