"""resource-forecast, serving half: the next HORIZON_MIN minutes of a signal, and is the latest value deviating?

Modules, in the order a request goes through them:

- :mod:`.models`: the request and response models (the serving codecs build and answer them);
- :mod:`.predictor`: resolves each row to its state and a history at the model's step;
- :mod:`.engine`: the components' forecasts at two cuts, the ensemble, intervals, deviation;
- :mod:`.components` (the component objects and their one list), :mod:`.combiner` (gate,
  weights, pooling), :mod:`.numeric` (shared arithmetic), :mod:`.crisis`;
- :mod:`.state` (``forecast.json`` + ``lstm.npz``) and :mod:`.config` (hyper-parameters,
  signals, the settings mapping).

The training half is ``training.families.forecast``; both run the same component code.
"""

from __future__ import annotations

from metrics_ai.families.base import Family
from metrics_ai.families.forecast.config import SIGNALS, ForecastConfig, config_from
from metrics_ai.families.forecast.models import ForecastRequest, ForecastResponse
from metrics_ai.families.forecast.predictor import ForecastPredictor

FAMILY: Family[ForecastConfig] = Family(
    name="resource-forecast",
    module="forecast",
    config=ForecastConfig,
    predictor=ForecastPredictor,
    signals=SIGNALS,
    config_from=config_from,
    request=ForecastRequest,
    response=ForecastResponse,
)

__all__ = ["FAMILY", "ForecastConfig", "ForecastPredictor"]
