"""Model families: one module per served model, found through :data:`PREDICTORS`.

Each family has a serving half (``Predictor``: load state, predict in NumPy, in
``metrics_ai/families/<family>.py``) and a training half (``Trainer``: fit and
backtest, in ``training/families/``). The split keeps the predictor image free
of the fitting libraries (TensorFlow, Prophet, statsmodels).
"""

from __future__ import annotations

from importlib import import_module

from metrics_ai.families.base import Predictor

#: served model name -> "module:Class" of its Predictor (imported on demand).
PREDICTORS: dict[str, str] = {
    "anomaly-detector": "metrics_ai.families.anomaly:AnomalyPredictor",
    "node-outliers": "metrics_ai.families.node_outliers:NodeOutlierPredictor",
    "resource-forecast": "metrics_ai.families.forecast:ForecastPredictor",
    "disk-eta": "metrics_ai.families.disk_eta:DiskEtaPredictor",
    "io-crisis": "metrics_ai.families.io_crisis:IoCrisisPredictor",
}


def predictor_class(model: str) -> type[Predictor]:
    """The Predictor class serving ``model``."""
    module, _, name = PREDICTORS[model].partition(":")
    cls: type[Predictor] = getattr(import_module(module), name)
    return cls
