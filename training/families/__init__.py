"""Training halves of the model families, found through :data:`TRAINERS`."""

from __future__ import annotations

from importlib import import_module

from training.families.base import Trainer

#: served model name -> "module:Class" of its Trainer (imported on demand).
TRAINERS: dict[str, str] = {
    "anomaly-detector": "training.families.anomaly:AnomalyTrainer",
    "node-outliers": "training.families.node_outliers:NodeOutlierTrainer",
    "resource-forecast": "training.families.forecast:ForecastTrainer",
    "disk-eta": "training.families.disk_eta:DiskEtaTrainer",
    "io-crisis": "training.families.io_crisis:IoCrisisTrainer",
}


def trainer_class(model: str) -> type[Trainer]:
    """The Trainer class of ``model``."""
    module, _, name = TRAINERS[model].partition(":")
    cls: type[Trainer] = getattr(import_module(module), name)
    return cls
