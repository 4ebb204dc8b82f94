"""Train resource-forecast: Prophet + ARIMA(2,1,0) + LSTM per series, backtested ensemble.

Per series (see :mod:`training.forecast_series`), chronological split at
TRAIN_FRACTION; the last ``calibration_fraction`` of the training part calibrates
(see :mod:`training.forecast_backtest`), the tail is the backtest.

- Prophet: daily + weekly seasonality, changepoint_prior_scale 0.05, regressors
  ``hour`` and ``is_weekend``, fitted on 5-minute means (Prophet is continuous in
  time, so the curve is evaluated at any step; the means sit at their bucket centre).
- ARIMA(2,1,0) (statsmodels, MLE) on the last ``arima_fit_points`` of the training part.
- LSTM (50, 50, Dense(horizon)), per series for cpu/memory, one pooled network per
  node signal (io_wait, net_rx, net_tx): :mod:`training.forecast_lstm`.

Every component in FORECAST_COMPONENTS must run: a fitting library that cannot be
imported is a :class:`TrainingError`, never a silently smaller ensemble.
"""

from __future__ import annotations

import importlib
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.errors import TrainingError
from metrics_ai.families.forecast import FAMILY, ForecastPredictor
from metrics_ai.forecast_components import COMPONENTS, MinMax
from metrics_ai.forecast_state import (
    ForecastConfig,
    ForecastState,
    SeriesModel,
    SignalPool,
)
from metrics_ai.lstm_numpy import NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState, calendar_regressors
from training.families.base import REFERENCE_FILE, Progress, Trainer, TrainOutcome, level_reference, no_progress
from training.forecast_backtest import Backtest, Fitted, backtest_job, fallback_backtest
from training.forecast_figures import backtest_figure, pick_for_figures
from training.forecast_groups import fitted_steps, lstm_key, pool_members
from training.forecast_lstm import LstmTrainer, build_windows, load_keras
from training.forecast_series import SeriesData, forecast_series, regular, unix_seconds

if TYPE_CHECKING:
    from training.prophet_export import PointFitter

_PUBLIC = (
    "mae_ensemble",
    "rmse_ensemble",
    "mae_prophet",
    "mae_arima",
    "mae_lstm",
    "mae_naive",
    "mae_seasonal_naive",
    "coverage_80",
    "cuts",
)


def require_components(components: tuple[str, ...]) -> None:
    """Import each component's fitting library now, or raise TrainingError naming it."""
    modules = {"prophet": "training.prophet_export", "arima": "statsmodels.tsa.arima.model"}
    for name in components:
        if name == "lstm":
            load_keras()
            continue
        try:
            importlib.import_module(modules[name])
        except Exception as exc:
            raise TrainingError(
                f"resource-forecast: the {name} component cannot run "
                f"({type(exc).__name__}: {exc}); "
                f"install the 'train' extra or leave it out of FORECAST_COMPONENTS"
            ) from exc


def fit_prophet_state(
    data: SeriesData, stop: int, cfg: ForecastConfig, fitter: PointFitter | None = None
) -> ProphetState:
    """Prophet on ``prophet_interval`` means of ``data[:stop]``, exported for NumPy.

    ``fitter`` replaces the cold fit (the update's warm refit, :mod:`training.updates.prophet`).
    """
    from training.prophet_export import fit_exported

    s = pd.Series(data.y[:stop], index=pd.to_datetime(data.t[:stop], unit="s", utc=True))
    if cfg.prophet_interval > data.step:
        s = regular(s, cfg.prophet_interval)
        t = unix_seconds(pd.DatetimeIndex(s.index)) + (cfg.prophet_interval - data.step) / 2.0  # bucket centre
    else:
        t = data.t[:stop]
    return (fitter or fit_exported)(
        t,
        s.to_numpy(np.float64),
        calendar_regressors(t),
        daily_seasonality=True,
        weekly_seasonality=True,
        changepoint_prior_scale=cfg.changepoint_prior_scale,
    )


def fit_components(
    item: tuple[SeriesData, int, ForecastConfig],
) -> tuple[ProphetState | None, ArimaState | None]:
    """Prophet and ARIMA of one series on its training part (runs in an executor worker)."""
    data, n_train, cfg = item
    prophet = fit_prophet_state(data, n_train, cfg) if "prophet" in cfg.components else None
    arima = None
    if "arima" in cfg.components:
        first = max(0, n_train - cfg.arima_fit_points)
        arima = fit_arima_state(data.y[first:n_train], cfg.arima_order)
    return prophet, arima


def fit_arima_state(y: np.ndarray, order: tuple[int, int, int], method: str = "statespace") -> ArimaState:
    """statsmodels ARIMA(p,1,0) by MLE (``method="burg"``: the update's cheap re-estimate); AR coefficients."""
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ARIMA(y, order=order).fit(method=method)
    return ArimaState(tuple(float(a) for a in res.arparams), float(res.params[-1]))


class ForecastTrainer(Trainer):
    """Fits every series' components, backtests them and builds the served state."""

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
        if {"prophet", "arima"} & set(cfg.components):
            fits = self._fit_components(fits, cfg, skipped, progress)
        timing["prophet_arima_s"] = time.perf_counter() - start
        start = time.perf_counter()
        lstms, lstm_info = self._fit_lstms(fits, cfg, progress) if "lstm" in cfg.components else ({}, {})
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
            f.prophet, f.arima = result.value
            kept.append(f)
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
    ) -> tuple[dict[str, NumpyLSTM], dict[str, Any]]:
        """Per-series networks for the few cluster series, one pooled network per node signal.

        A network found in ``warm`` (the update's saved weights) is fine-tuned for
        ``warm_epochs`` from there instead of trained from scratch (by ``trainer_class``,
        the update's :class:`training.updates.lstm.FineTuner`).
        """
        groups: dict[str, list[Fitted]] = {}
        per_window = cfg.lstm_scaling == "window"
        for f in fits:
            f.scaler = None if per_window else MinMax.fit(f.data.y[: f.n_train])
            groups.setdefault(lstm_key(f.data, cfg), []).append(f)
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
            for m in members:
                m.lstm_key, m.lstm = key, nets[key]
            progress(1, len(groups), "resource-forecast lstm networks")
        return nets, info

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
            weights = {
                k: np.mean(ws, axis=0)
                for k in ("arima", "lstm")
                if (ws := [b.weights[k] for b in bts if k in b.weights])
            }
            rel = np.median([b.rel_halfwidth for b in bts], axis=0)
            pools[signal] = SignalPool(
                signal=signal,
                step=float(members[0].data.step),
                arima=ArimaState.pooled([f.arima for f in members if f.arima]) if "arima" in cfg.components else None,
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
                *COMPONENTS,
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
