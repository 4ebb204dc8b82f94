"""Fit Prophet quietly and export the fit as a NumPy-evaluable ProphetState.

Used by every family that fits Prophet (resource-forecast, disk-eta, io-crisis): the
training image imports prophet, the predictor image only evaluates the exported
:class:`metrics_ai.prophet_numpy.ProphetState`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics_ai.errors import TrainingError
from metrics_ai.prophet_numpy import ProphetState, Regressor, Seasonality
from training.prophet_lib import Prophet

_QUIET_LOGGERS = ("cmdstanpy", "prophet", "prophet.models", "prophet.plot")
log = logging.getLogger(__name__)


class NewtonFallback(logging.Filter):
    """Demote Prophet's handled L-BFGS failure to one DEBUG line.

    When Stan's L-BFGS stops abnormally (it does on some flat or stepped series),
    cmdstanpy logs an ERROR ("Chain [1] error: code '1' Operation not permitted": the
    strerror of exit code 1, not a permission problem) and Prophet a WARNING, then refits
    with Newton. That refit is the answer; a failure of it raises and is reported per
    series. The two lines would read as failures in a job's log, so they go to DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name == "cmdstanpy" and record.levelno >= logging.ERROR and " error: code " in message:
            log.debug("Stan L-BFGS stopped abnormally (%s); Prophet refits with Newton", message)
            return False
        return not (record.name.startswith("prophet") and message.startswith("Optimization terminated abnormally"))


def _quiet() -> None:
    """Silence cmdstanpy/prophet INFO chatter and the handled Newton fallback (idempotent)."""
    from cmdstanpy.utils import get_logger

    get_logger()  # cmdstanpy configures its logger on first use: do it now, then quieten it
    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not any(isinstance(f, NewtonFallback) for f in logger.filters):
            logger.addFilter(NewtonFallback())


#: days of history from which the crossing families (disk-eta, io-crisis) fit a weekly seasonality
#: (Prophet's own "auto" rule: from one week a weekly term cannot be told from the trend)
WEEKLY_MIN_DAYS = 14.0


def weekly_fits(t: np.ndarray, min_days: float = WEEKLY_MIN_DAYS) -> bool:
    """Whether unix seconds ``t`` span ``min_days`` or more: enough to fit a weekly seasonality."""
    return bool(len(t) and float(t[-1]) - float(t[0]) >= min_days * 86400.0)


def to_ds(t: np.ndarray) -> pd.Series:
    """Unix seconds -> the timezone-naive UTC datetimes Prophet expects in ``ds``."""
    return pd.Series(pd.to_datetime(np.asarray(t, dtype=np.float64), unit="s"))


def fit_prophet(
    t: np.ndarray,
    y: np.ndarray,
    regressors: Mapping[str, np.ndarray] | None = None,
    *,
    algorithm: str = "LBFGS",
    prophet_class: Callable[..., Prophet] = Prophet,
    **prophet_kwargs: Any,
) -> Prophet:
    """Fit Prophet (MAP, no uncertainty sampling) quietly on one series.

    Args:
        t: unix seconds [T]; y: values [T] (NaN rows are dropped by Prophet).
        regressors: extra additive regressors by name, each [T] (e.g. from
            :func:`metrics_ai.prophet_numpy.calendar_regressors`).
        algorithm: the Stan optimiser (LBFGS is fast and the Prophet default).
        prophet_class: builds the model (a warm-starting subclass in
            :mod:`training.updates.prophet`).
        **prophet_kwargs: passed to ``Prophet(...)``; ``uncertainty_samples``
            defaults to 0 and unspecified seasonalities are switched off.

    Returns:
        The fitted model.
    """
    _quiet()
    kwargs: dict[str, Any] = {
        "uncertainty_samples": 0,
        "yearly_seasonality": False,
        "weekly_seasonality": False,
        "daily_seasonality": False,
    }
    kwargs.update(prophet_kwargs)
    model = prophet_class(**kwargs)
    df = pd.DataFrame({"ds": to_ds(t), "y": np.asarray(y, dtype=np.float64)})
    for name, values in (regressors or {}).items():
        model.add_regressor(name, mode="additive")
        df[name] = np.asarray(values, dtype=np.float64)
    model.fit(df, algorithm=algorithm)
    return model


def _unix(ts: pd.Timestamp) -> float:
    return float((pd.Timestamp(ts) - pd.Timestamp(0)).total_seconds())


def export_prophet(model: Prophet) -> ProphetState:
    """Export a fitted Prophet model's MAP point forecast to a :class:`ProphetState`.

    Raises:
        TrainingError: the model is unfitted or uses what the evaluator does not
            support (logistic growth, holidays, MCMC samples).
    """
    if model.history is None or not model.params:
        raise TrainingError("export_prophet: the model has not been fitted")
    if model.growth not in ("linear", "flat") or model.logistic_floor:
        raise TrainingError(f"export_prophet: growth {model.growth!r} is not supported")
    if model.train_holiday_names is not None:
        raise TrainingError("export_prophet: holidays are not supported")
    if model.mcmc_samples:
        raise TrainingError("export_prophet: MCMC fits are not supported (use MAP)")
    # Prophet averages the samples; a MAP fit has exactly one.
    k = float(np.nanmean(model.params["k"]))
    m = float(np.nanmean(model.params["m"]))
    delta = np.nanmean(np.atleast_2d(model.params["delta"]), axis=0).astype(np.float64)
    beta = np.nanmean(np.atleast_2d(model.params["beta"]), axis=0).astype(np.float64)
    col = 0
    seasonalities = []
    for name, props in model.seasonalities.items():
        n = 2 * int(props["fourier_order"])
        seasonalities.append(
            Seasonality(
                name=name,
                period=float(props["period"]),
                fourier_order=int(props["fourier_order"]),
                mode=str(props["mode"]),
                beta=beta[col : col + n].copy(),
                condition_name=props["condition_name"],
            )
        )
        col += n
    regressors = []
    for name, props in model.extra_regressors.items():
        regressors.append(
            Regressor(name, float(props["mu"]), float(props["std"]), str(props["mode"]), float(beta[col]))
        )
        col += 1
    changepoints_t = np.asarray(model.changepoints_t if model.changepoints_t is not None else [], dtype=np.float64)
    state = ProphetState(
        growth=str(model.growth),
        k=k,
        m=m,
        delta=delta if model.growth == "linear" else np.zeros_like(changepoints_t),
        changepoints_t=changepoints_t,
        start=_unix(model.start),
        t_scale=float(pd.Timedelta(model.t_scale).total_seconds()),
        y_scale=float(model.y_scale),
        floor=float(model.y_min) if model.scaling == "minmax" else 0.0,
        seasonalities=seasonalities,
        regressors=regressors,
    )
    state.residual_std = _residual_std(model, state)
    return state


def _residual_std(model: Prophet, state: ProphetState) -> float:
    """Std of in-sample residuals, evaluated with the exported state itself."""
    hist = model.history
    t = (hist["ds"] - pd.Timestamp(0)).dt.total_seconds().to_numpy(dtype=np.float64)
    inputs: dict[str, np.ndarray] = {}
    for r in state.regressors:  # history holds standardised regressors
        inputs[r.name] = hist[r.name].to_numpy(dtype=np.float64) * r.std + r.mu
    for s in state.seasonalities:
        if s.condition_name:
            inputs[s.condition_name] = hist[s.condition_name].to_numpy(dtype=bool)
    resid = hist["y"].to_numpy(dtype=np.float64) - state.predict(t, inputs)
    return float(np.std(resid)) if resid.size else 0.0


def fit_exported(
    t: np.ndarray, y: np.ndarray, regressors: Mapping[str, np.ndarray] | None = None, **prophet_kwargs: Any
) -> ProphetState:
    """:func:`fit_prophet`, exported: the default ``fitter`` of the families' Prophet fits."""
    return export_prophet(fit_prophet(t, y, regressors, **prophet_kwargs))


#: fits Prophet on points and exports it: (t, y, regressors, **prophet_kwargs) -> ProphetState
#: (:func:`fit_exported`, or the update's warm-started refit)
PointFitter = Callable[..., ProphetState]


def fit_coarse(
    t: np.ndarray,
    v: np.ndarray,
    width: float = 3600.0,
    min_bins: int = 48,
    fitter: PointFitter | None = None,
    **prophet_kwargs: Any,
) -> ProphetState:
    """Fit Prophet on ``width``-second means (hourly by default) and export it.

    Hourly means keep every daily/weekly shape and cut a week at 1-minute resolution
    from 10,080 rows to 168, so a fit takes ~30 ms. A series too short to give
    ``min_bins`` bins is fitted on its raw points (at most 2,000, evenly thinned).
    ``fitter`` replaces the cold fit (default :func:`fit_exported`).
    """
    from metrics_ai.crossing import bin_means

    tb, vb = bin_means(t, v, width)
    if tb.size < min_bins:
        idx = np.unique(np.linspace(0, len(t) - 1, min(len(t), 2000)).round().astype(int))
        tb, vb = np.asarray(t, dtype=np.float64)[idx], np.asarray(v, dtype=np.float64)[idx]
    return (fitter or fit_exported)(tb, vb, **prophet_kwargs)
