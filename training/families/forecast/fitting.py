"""The fitting halves of resource-forecast's components, keyed by the serving components' names.

Each fitter imports its library lazily (the predictor image has none of them) and
:meth:`~ComponentFitter.require` fails loudly when it cannot: every component in
FORECAST_COMPONENTS must run, never a silently smaller ensemble.

- Prophet: daily + weekly seasonality, changepoint_prior_scale 0.05, regressors
  ``hour`` and ``is_weekend``, fitted on ``prophet_interval`` means (Prophet is
  continuous in time, so the curve is evaluated at any step; the means sit at their
  bucket centre).
- ARIMA(2,1,0) (statsmodels, MLE; Burg's method for the update) on the last
  ``arima_fit_points`` of the training part.
- LSTM: networks are fitted per group of series (per series, or pooled per node
  signal) by the trainer through :mod:`training.families.forecast.lstm`.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.errors import TrainingError
from metrics_ai.families.forecast.components import ARIMA, LSTM, PROPHET
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.prophet_numpy import ProphetState, calendar_regressors
from training.families.forecast.lstm import load_keras
from training.families.forecast.series import SeriesData, regular, unix_seconds

if TYPE_CHECKING:
    from training.prophet_export import PointFitter


class ComponentFitter(Protocol):
    """The training half of one component (the serving half: ``metrics_ai.families.forecast.components``)."""

    @property
    def name(self) -> str:
        """The component's name (``metrics_ai.families.forecast.components.NAMES``)."""

    def require(self) -> None:
        """Import the fitting library now.

        Raises:
            TrainingError: it cannot be imported (naming the component and the fix).
        """


def _require_module(name: str, module: str) -> None:
    try:
        importlib.import_module(module)
    except Exception as exc:
        raise TrainingError(
            f"resource-forecast: the {name} component cannot run "
            f"({type(exc).__name__}: {exc}); "
            f"install the 'train' extra or leave it out of FORECAST_COMPONENTS"
        ) from exc


@dataclass(frozen=True, slots=True)
class ProphetFitter:
    """Prophet on ``prophet_interval`` means of the training part, exported for NumPy."""

    name: str = PROPHET.name

    def require(self) -> None:
        """Import :mod:`training.prophet_export` (Prophet, Stan)."""
        _require_module(self.name, "training.prophet_export")

    def fit(self, data: SeriesData, stop: int, cfg: ForecastConfig, fitter: PointFitter | None = None) -> ProphetState:
        """Fit on ``data[:stop]``; ``fitter`` replaces the cold fit (the update's warm refit)."""
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


@dataclass(frozen=True, slots=True)
class ArimaFitter:
    """statsmodels ARIMA(p,1,0) on the last ``arima_fit_points`` of the training part."""

    name: str = ARIMA.name

    def require(self) -> None:
        """Import statsmodels' ARIMA."""
        _require_module(self.name, "statsmodels.tsa.arima.model")

    def fit(self, data: SeriesData, stop: int, cfg: ForecastConfig, method: str = "statespace") -> ArimaState:
        """Fit on ``data[:stop]`` (``method="burg"``: the update's cheap re-estimate)."""
        first = max(0, stop - cfg.arima_fit_points)
        return fit_arima_state(data.y[first:stop], cfg.arima_order, method)


@dataclass(frozen=True, slots=True)
class LstmFitter:
    """Keras; the networks themselves are fitted per group by the trainer (``_fit_lstms``)."""

    name: str = LSTM.name

    def require(self) -> None:
        """Import TensorFlow/Keras."""
        load_keras()


PROPHET_FIT, ARIMA_FIT, LSTM_FIT = ProphetFitter(), ArimaFitter(), LstmFitter()
#: component name -> its fitter, for every component (``NAMES``)
FITTERS: Mapping[str, ComponentFitter] = {f.name: f for f in (PROPHET_FIT, ARIMA_FIT, LSTM_FIT)}
#: components fitted per series through the executor (:func:`fit_components`); the LSTM is per group
PER_SERIES: tuple[str, ...] = (PROPHET_FIT.name, ARIMA_FIT.name)


def require_components(components: tuple[str, ...]) -> None:
    """Import each chosen component's fitting library now, or raise TrainingError naming it."""
    for name in components:
        FITTERS[name].require()


def fit_arima_state(y: np.ndarray, order: tuple[int, int, int], method: str = "statespace") -> ArimaState:
    """statsmodels ARIMA(p,1,0) by MLE (``method="burg"``: the update's cheap re-estimate); AR coefficients."""
    from statsmodels.tsa.arima.model import ARIMA as StatsmodelsArima

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = StatsmodelsArima(y, order=order).fit(method=method)
    return ArimaState(tuple(float(a) for a in res.arparams), float(res.params[-1]))


@dataclass(frozen=True, slots=True)
class SeriesFit:
    """Stage result: one series' Prophet and ARIMA fits (None: not chosen)."""

    prophet: ProphetState | None
    arima: ArimaState | None


def fit_components(item: tuple[SeriesData, int, ForecastConfig]) -> SeriesFit:
    """Prophet and ARIMA of one series on its training part (runs in an executor worker)."""
    data, n_train, cfg = item
    prophet = PROPHET_FIT.fit(data, n_train, cfg) if PROPHET.name in cfg.components else None
    arima = ARIMA_FIT.fit(data, n_train, cfg) if ARIMA.name in cfg.components else None
    return SeriesFit(prophet, arima)
