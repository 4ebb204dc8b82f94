"""The update's Prophet steps: warm-started refits on a short, recent window, and trend re-estimates.

A refit on the last UPDATE_DAYS re-estimates the trend, the regressors and the seasonal
terms whose period fits :data:`MIN_PERIODS` times into the window. The others cannot
be told apart from the trend there (a weekly cycle in two days; a daily cycle in less
than two, where it would soak up a level shift), so they are *carried*, with
``is_weekend`` along with a carried weekly seasonality: their contribution from the
saved fit is taken out of the data, the rest is refitted with the saved
hyper-parameters, and the carried terms are put back into the exported state
unchanged (rescaled to the new fit's ``y_scale``).

The optimiser starts from the saved fit (:class:`WarmProphet`), translated into the
new fit's scaling: trend level and slope of the saved trend over the new window,
seasonal and regressor coefficients rescaled. (On windows of a few hundred points the
warm start saves little time: Prophet's fixed costs dominate; the short window is
what makes the refit cheap.)

:func:`retrend` fits nothing with Stan: it keeps a saved fit's seasonal terms and puts a
straight line fitted on the window in place of its trend (disk-eta and io-crisis, whose
Prophet fits are small enough that a refit costs as much as the full run's fit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from metrics_ai.crossing import bin_means
from metrics_ai.prophet_numpy import ProphetState, Regressor, Seasonality
from training.prophet_export import PointFitter, export_prophet, fit_prophet
from training.prophet_lib import Prophet

DAY = 86400.0
#: a seasonality is refitted only when the window holds at least this many of its periods.
#: Measured: refitting weekly on 2-day windows blows the 12-h extrapolation up (mean relative
#: error 0.42 against 0.16 carried); refitting daily on fewer than two days let it soak up the
#: +0.2 step of tests/training/test_update.py (served Prophet MAE 0.043 before the update,
#: 0.108 after with daily refitted, 0.032 with daily carried)
MIN_PERIODS = 2.0
#: regressors that follow the weekly cycle: carried whenever a weekly seasonality is
WEEKLY_REGRESSORS: tuple[str, ...] = ("is_weekend",)
#: a window without regressors is fitted on means over a 5-minute multiple that leaves at most
#: this many points (a two-day window is under ``fit_coarse``'s 48 hourly bins, which would
#: otherwise fit up to 2,000 raw points: ten times the full run's cost per disk)
MAX_POINTS = 200
_BUILT_IN = ("daily", "weekly", "yearly")


class WarmProphet(Prophet):  # type: ignore[misc]
    """Prophet whose optimiser starts from an earlier fit instead of Prophet's defaults."""

    def __init__(self, *, warm: ProphetState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warm = warm

    def calculate_initial_params(self, num_total_regressors: int) -> Any:
        """Prophet's initial parameters, replaced by the saved fit's in this fit's scaling."""
        params = super().calculate_initial_params(num_total_regressors)
        old = self.warm
        y_scale = float(self.y_scale) or 1.0
        floor = float(self.y_min) if self.scaling == "minmax" else 0.0
        start = float((pd.Timestamp(self.start) - pd.Timestamp(0)).total_seconds())
        span = float(pd.Timedelta(self.t_scale).total_seconds())
        level0, level1 = old.trend(np.array([start, start + span]))
        k, m = params.k, params.m
        if self.growth == "linear":
            k, m = (level1 - level0) / y_scale, (level0 - floor) / y_scale
        ratio = old.y_scale / y_scale
        beta = np.zeros(num_total_regressors)
        col = 0
        seasons = {s.name: s for s in old.seasonalities}
        for name, props in self.seasonalities.items():
            n = 2 * int(props["fourier_order"])
            s = seasons.get(name)
            if s is not None and s.beta.size == n and s.mode == props["mode"]:
                beta[col : col + n] = s.beta * (ratio if s.mode == "additive" else 1.0)
            col += n
        regs = {r.name: r for r in old.regressors}
        for name, props in self.extra_regressors.items():
            r = regs.get(name)
            if r is not None and r.mode == props["mode"] and r.std > 0:
                beta[col] = r.beta * float(props["std"]) / r.std * (ratio if r.mode == "additive" else 1.0)
            col += 1
        if col != num_total_regressors:  # a layout this class does not know: Prophet's own start
            beta = params.beta
        # sigma_obs keeps Prophet's loose start: started at the saved (small) noise level the
        # likelihood is so peaked that L-BFGS stops early, far from the optimum
        return dataclasses.replace(params, k=float(k), m=float(m), beta=beta)


def carried_terms(old: ProphetState, span: float) -> tuple[list[Seasonality], list[Regressor]]:
    """The saved terms a window of ``span`` seconds cannot re-estimate (additive ones only)."""
    seasons = [
        s
        for s in old.seasonalities
        if s.mode == "additive"
        and s.condition_name is None
        and (s.name not in _BUILT_IN or s.period * DAY * MIN_PERIODS > span)
    ]
    weekly = any(s.period >= 7.0 for s in seasons)
    regs = [r for r in old.regressors if weekly and r.mode == "additive" and r.name in WEEKLY_REGRESSORS]
    return seasons, regs


def contribution(
    old: ProphetState,
    seasons: list[Seasonality],
    regs: list[Regressor],
    t: np.ndarray,
    regressors: Mapping[str, np.ndarray] | None,
) -> np.ndarray:
    """What ``seasons`` and ``regs`` of ``old`` add at ``t`` (original units)."""
    if not seasons and not regs:
        return np.zeros(len(t))
    only = ProphetState(
        "flat", 0.0, 0.0, np.zeros(0), np.zeros(0), old.start, old.t_scale, old.y_scale, 0.0, seasons, regs
    )
    return only.predict(t, {r.name: np.asarray(regressors[r.name]) for r in regs} if regressors else None)


def refit_warm(
    t: np.ndarray,
    y: np.ndarray,
    regressors: Mapping[str, np.ndarray] | None = None,
    *,
    old: ProphetState,
    **prophet_kwargs: Any,
) -> ProphetState:
    """Refit ``old``'s model on the window ``(t, y)``, warm-started, slow terms carried.

    Args:
        t, y: the window (unix seconds, values), as the family's own fit would pass them
            (averaged down to :data:`MAX_POINTS` when it has no regressors).
        regressors: every regressor ``old`` uses, at ``t``.
        old: the saved fit; its seasonalities (names, Fourier orders) override the
            ``*_seasonality`` arguments, so the refit keeps the saved structure.
        **prophet_kwargs: the family's hyper-parameters (changepoint prior, ...).

    Returns:
        The exported refit, carried terms included (same terms as ``old``).
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not regressors:
        t, y = thin(t, y)
    seasons, regs = carried_terms(old, float(t[-1] - t[0]) if t.size else 0.0)
    carried_names = {s.name for s in seasons}
    kwargs = dict(prophet_kwargs)
    by_name = {s.name: s for s in old.seasonalities}
    for name in _BUILT_IN:
        s = by_name.get(name)
        kwargs[f"{name}_seasonality"] = s.fourier_order if s is not None and name not in carried_names else False
    dropped = {r.name for r in regs}
    fit_regs = {k: v for k, v in (regressors or {}).items() if k not in dropped}
    model = fit_prophet(
        t,
        y - contribution(old, seasons, regs, t, regressors),
        fit_regs,
        prophet_class=partial(WarmProphet, warm=old),
        **kwargs,
    )
    state = export_prophet(model)
    ratio = old.y_scale / (state.y_scale or 1.0)
    state.seasonalities += [dataclasses.replace(s, beta=s.beta * ratio) for s in seasons]
    state.regressors += [dataclasses.replace(r, beta=r.beta * ratio) for r in regs]
    inputs = {name: np.asarray(v) for name, v in (regressors or {}).items()}
    state.residual_std = float(np.std(y - state.predict(t, inputs))) if y.size else 0.0
    return state


def thin(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means over the shortest 5-minute multiple that leaves at most :data:`MAX_POINTS` points."""
    t = np.asarray(t, dtype=np.float64)
    if t.size <= MAX_POINTS:
        return t, np.asarray(y, dtype=np.float64)
    return bin_means(t, y, 300.0 * np.ceil((t[-1] - t[0]) / MAX_POINTS / 300.0))


def fit_thinned(t: np.ndarray, y: np.ndarray, **prophet_kwargs: Any) -> ProphetState:
    """A cold fit on :func:`thin`'s means: the update's fit of an entity new to the model."""
    return export_prophet(fit_prophet(*thin(t, y), **prophet_kwargs))


def warm_fitter(old: ProphetState) -> PointFitter:
    """A ``fitter`` for the families' Prophet functions that refits ``old`` warm."""
    return partial(refit_warm, old=old)


def keep_fitter(old: ProphetState) -> PointFitter:
    """A ``fitter`` that fits nothing and returns ``old``: backtests the saved fit as is."""

    def keep(*_: Any, **__: Any) -> ProphetState:
        return old

    return keep


def retrend(
    t: np.ndarray,
    y: np.ndarray,
    regressors: Mapping[str, np.ndarray] | None = None,
    *,
    old: ProphetState,
    **_: Any,
) -> ProphetState:
    """``old`` with its trend re-estimated on the window: one straight line, seasonal terms kept.

    The line is the least-squares fit of the window less ``old``'s seasonal terms; no Stan
    fit (a few hundred microseconds against Prophet's ~0.1 s per fit, mostly fixed cost).
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    parts = old.components(t, dict(regressors) if regressors else None)
    rest = y - parts["seasonal"]
    slope, level_end = np.polyfit(t - t[-1], rest, 1) if t.size > 1 else (0.0, float(rest[-1]))
    span = float(t[-1] - t[0]) or 1.0
    level0 = level_end - slope * span
    y_scale = old.y_scale or 1.0
    state = ProphetState(
        "linear",
        float(slope * span / y_scale),
        float((level0 - old.floor) / y_scale),
        np.zeros(0),
        np.zeros(0),
        float(t[0]),
        span,
        y_scale,
        old.floor,
        list(old.seasonalities),
        list(old.regressors),
    )
    state.residual_std = float(np.std(y - state.predict(t, dict(regressors) if regressors else None)))
    return state


def retrend_fitter(old: ProphetState) -> PointFitter:
    """A ``fitter`` that re-estimates ``old``'s trend on the window (:func:`retrend`)."""
    return partial(retrend, old=old)
