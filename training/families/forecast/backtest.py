"""Backtest of resource-forecast: many cut points, one code path with serving.

Per series, with the components fitted on the training part:

- *calibration* cuts (the last ``calibration_fraction`` of the training part, the
  LSTM's validation windows) choose Prophet's anchor window, the inverse-MAE
  ensemble weights per horizon step and the conformal interval half-widths (in units
  of the recent mean |one-step change|) and gate, for this series, any component whose
  MAE there is over ``gate_k`` times the naive MAE (not served, not combined, still
  scored on the test tail). Prophet and ARIMA were fitted on these
  points (ARIMA has 2 parameters; Prophet's changepoints stop at 80 % of its
  history), the LSTM was not;
- *test* cuts (the held-out tail) measure MAE and RMSE of every component, the three
  ensembles (equal, inverse-MAE, median), last-value and seasonal-naive, and the
  interval coverage. Nothing is chosen on the test tail.

Forecasts come from the component objects (:mod:`metrics_ai.families.forecast.components`)
and the ensemble from the :class:`Combiner` the predictor runs, so the backtest measures
exactly what is served. Its results (:class:`Fitted`, :class:`Backtest`) are immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.families.forecast.combiner import WEIGHTINGS, Combiner, gate_components
from metrics_ai.families.forecast.components import COMPONENTS, DEFAULT_ANCHOR, LSTM, PROPHET, Parts, Window
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.families.forecast.numeric import MinMax, bounded, interval_unit
from metrics_ai.families.forecast.state import SignalPool
from metrics_ai.intervals import conformal_halfwidth, coverage
from metrics_ai.lstm_numpy import NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState
from training.families.forecast.series import SeriesData


@dataclass(frozen=True)
class Fitted:
    """Stage result: one series and its fitted components (each stage returns a new one)."""

    data: SeriesData
    n_train: int
    cal_start: int
    horizon: int
    prophet: ProphetState | None = None
    arima: ArimaState | None = None
    lstm_key: str | None = None
    lstm: NumpyLSTM | None = None
    scaler: MinMax | None = None


@dataclass(frozen=True)
class Backtest:
    """What the calibration chose and what the test tail measured."""

    anchor: int
    """Prophet's anchor window (points)."""
    weights: dict[str, np.ndarray]
    rel_halfwidth: np.ndarray
    metrics: dict[str, Any]
    test_cuts: np.ndarray
    test_halfwidth: np.ndarray
    test_forecasts: dict[str, np.ndarray] = field(default_factory=dict)
    gated: dict[str, float] = field(default_factory=dict)
    """Components not served for this series -> calibration MAE / naive MAE (over ``gate_k``)."""


def cut_points(first: int, last: int, max_cuts: int) -> np.ndarray:
    """Indexes ``first..last`` (inclusive), evenly thinned to at most ``max_cuts``."""
    if last < first:
        return np.zeros(0, dtype=int)
    stride = max(1, int(np.ceil((last - first + 1) / max_cuts)))
    return np.arange(first, last + 1, stride)


def targets(y: np.ndarray, cuts: np.ndarray, horizon: int) -> np.ndarray:
    """Actual values after each cut ``[N, H]``."""
    return y[cuts[:, None] + np.arange(1, horizon + 1)[None, :]]


def parts(fit: Fitted, anchor: int, seq_len: int) -> Parts:
    """The fitted components of ``fit`` as the component objects take them."""
    lstms = (fit.lstm,) if fit.lstm is not None else ()
    return Parts(fit.prophet, anchor, fit.arima, lstms, seq_len, fit.scaler)


def window(fit: Fitted, cuts: np.ndarray) -> Window:
    """Forecasts after ``cuts`` of the series, over its horizon."""
    return Window(fit.data.t, fit.data.y, cuts, fit.data.step, fit.horizon)


def forecasts(fit: Fitted, cuts: np.ndarray, anchor: int, seq_len: int) -> dict[str, np.ndarray]:
    """Each fitted component's forecasts after ``cuts`` (as served)."""
    state, at = parts(fit, anchor, seq_len), window(fit, cuts)
    out = {c.name: c.forecast(state, at) for c in COMPONENTS}
    return {k: v for k, v in bounded(out, fit.data.signal).items() if v is not None}


def baselines(y: np.ndarray, cuts: np.ndarray, horizon: int, season: int) -> dict[str, np.ndarray]:
    """Last-value naive and seasonal-naive (one season back) forecasts."""
    steps = np.arange(1, horizon + 1)[None, :]
    out = {"naive": np.repeat(y[cuts][:, None], horizon, axis=1)}
    back = cuts[:, None] + steps - season
    if back.min(initial=0) >= 0:
        out["seasonal_naive"] = y[back]
    return out


def pick_anchor(fit: Fitted, cuts: np.ndarray, cfg: ForecastConfig) -> int:
    """Prophet's anchor window with the lowest calibration MAE."""
    if fit.prophet is None or cuts.size == 0:
        return DEFAULT_ANCHOR
    actual = targets(fit.data.y, cuts, fit.horizon)
    at = window(fit, cuts)

    def mae(anchor: int) -> float:
        forecast = PROPHET.forecast(Parts(prophet=fit.prophet, anchor=anchor), at)
        return float(np.mean(np.abs(np.asarray(forecast) - actual)))

    return min(cfg.anchors, key=mae)


def _scores(prefix: str, err: np.ndarray) -> dict[str, float]:
    return {
        f"mae_{prefix}": float(np.mean(np.abs(err))),
        f"rmse_{prefix}": float(np.sqrt(np.mean(err**2))),
    }


def backtest_job(item: tuple[Fitted, ForecastConfig]) -> Backtest:
    """:func:`backtest` for the executor (one series per task)."""
    return backtest(*item)


def backtest(fit: Fitted, cfg: ForecastConfig) -> Backtest:
    """Calibrate on the end of the training part, measure on the tail."""
    d, h = fit.data, fit.horizon
    first = max(cfg.seq_len - 1, max(cfg.anchors, default=1) - 1, 2)
    cal = cut_points(max(fit.cal_start - 1, first), fit.n_train - 1 - h, cfg.max_calibration_cuts)
    test = cut_points(max(fit.n_train - 1, first), d.y.size - 1 - h, cfg.max_cuts)
    if cal.size == 0 or test.size == 0:
        raise ValueError(f"{d.key}: too short to backtest ({d.y.size} points)")
    anchor = pick_anchor(fit, cal, cfg)
    cal_f, test_f = (
        forecasts(fit, cal, anchor, cfg.seq_len),
        forecasts(fit, test, anchor, cfg.seq_len),
    )
    cal_y, test_y = targets(d.y, cal, h), targets(d.y, test, h)
    season = int(round(86400 / d.step))
    cal_naive = float(np.mean(np.abs(baselines(d.y, cal, h, season)["naive"] - cal_y)))
    gated = gate_components({k: float(np.mean(np.abs(f - cal_y))) for k, f in cal_f.items()}, cal_naive, cfg.gate_k)
    all_test_f = test_f
    cal_f = {k: f for k, f in cal_f.items() if k not in gated}
    test_f = {k: f for k, f in test_f.items() if k not in gated}
    cal_err = {k: f - cal_y for k, f in cal_f.items()}
    schemes = {name: Combiner(name) for name in WEIGHTINGS}
    scheme_weights = {name: c.calibrate(cal_err, h) for name, c in schemes.items()}
    combiner, weights = schemes[cfg.weighting], scheme_weights[cfg.weighting]
    scale = float(np.mean(np.abs(np.diff(d.y[: fit.n_train]))))
    cal_unit = interval_unit(d.y, cal, cfg.seq_len, scale)[:, None]
    cal_error = np.abs(combiner.combine(cal_f, weights) - cal_y) / cal_unit
    rel_halfwidth = conformal_halfwidth(cal_error, cfg.interval_level)
    metrics: dict[str, Any] = {"cuts": int(test.size), "calibration_cuts": int(cal.size), "gated": gated}
    for name, f in all_test_f.items():  # gated components too: what they would have scored
        metrics.update(_scores(name, f - test_y))
    for name, scheme in schemes.items():
        ensemble_f = scheme.combine(test_f, scheme_weights[name])
        metrics[f"mae_ensemble_{name}"] = float(np.mean(np.abs(ensemble_f - test_y)))
    ensemble = combiner.combine(test_f, weights)
    metrics.update(_scores("ensemble", ensemble - test_y))
    for name, f in baselines(d.y, test, h, season).items():
        metrics.update(_scores(name, f - test_y))
    level = float(np.mean(np.abs(test_y)))
    metrics["mean_abs_level"] = level
    metrics["mae_ensemble_rel"] = metrics["mae_ensemble"] / max(level, 1e-12)
    test_halfwidth = interval_unit(d.y, test, cfg.seq_len, scale)[:, None] * rel_halfwidth[None, :]
    metrics[f"coverage_{int(round(cfg.interval_level * 100))}"] = coverage(ensemble - test_y, test_halfwidth)
    metrics["anchor"] = anchor
    return Backtest(
        anchor,
        weights,
        rel_halfwidth,
        metrics,
        test,
        test_halfwidth,
        {**test_f, "ensemble": ensemble},
        gated,
    )


def fallback_backtest(
    fit: Fitted, bt: Backtest, pool: SignalPool, nets: dict[str, NumpyLSTM], cfg: ForecastConfig
) -> dict[str, Any]:
    """What an entity the model has never seen gets, measured on this series' test tail.

    The pooled state (median ARIMA parameters, the signal's LSTM networks, pooled
    weights and relative half-widths, no Prophet) forecasts exactly as the predictor's
    fallback does; with ``lstm_scaling="series"`` the window's own range stands in for
    the request's. A pooled network with per-window scaling forecasts an unseen entity
    as it forecasts this one, so the backtest's LSTM forecasts are reused.
    """
    d, h = fit.data, fit.horizon
    test = bt.test_cuts
    actual = targets(d.y, test, h)
    reuse = pool.lstms == [fit.lstm_key] and cfg.lstm_scaling == "window" and LSTM.name in bt.test_forecasts
    lstms = () if reuse else tuple(nets[k] for k in pool.lstms)
    state = Parts(arima=pool.arima, lstms=lstms, seq_len=cfg.seq_len, scale_each=cfg.lstm_scaling != "window")
    raw = {c.name: c.forecast(state, window(fit, test)) for c in COMPONENTS if c.pooled}
    if reuse:
        raw[LSTM.name] = bt.test_forecasts[LSTM.name]
    f = {k: v for k, v in raw.items() if v is not None}
    if not f:  # prophet alone: an unseen entity cannot be answered
        return {}
    f = {k: v for k, v in bounded(dict(f), d.signal).items() if v is not None}
    ensemble = Combiner(cfg.weighting).combine(f, {k: pool.weights.get(k, np.ones(h)) for k in f})
    unit = interval_unit(d.y, test, cfg.seq_len, float(np.mean(np.abs(np.diff(d.y)))))
    out: dict[str, Any] = {"cuts": int(test.size)}
    for name, forecast in {**f, "ensemble": ensemble}.items():
        out.update(_scores(name, forecast - actual))
    out[f"coverage_{int(round(cfg.interval_level * 100))}"] = coverage(
        ensemble - actual, unit[:, None] * pool.rel_halfwidth[None, :]
    )
    out["mean_abs_level"] = float(np.mean(np.abs(actual)))
    return out
