"""Incremental updates of published models (``python -m training update``), one module per family.

:data:`UPDATERS` names each family's :class:`training.updates.base.Updater`; the
generic flow (read the latest window, load the current version, update, backtest,
publish through the same gate) is :mod:`training.update`.
"""

from __future__ import annotations

from importlib import import_module

from training.updates.base import Updater

#: served model name -> "module:Class" of its Updater (imported on demand).
UPDATERS: dict[str, str] = {
    "anomaly-detector": "training.updates.anomaly:AnomalyUpdater",
    "node-outliers": "training.updates.node_outliers:NodeOutlierUpdater",
    "resource-forecast": "training.updates.forecast:ForecastUpdater",
    "disk-eta": "training.updates.disk_eta:DiskEtaUpdater",
    "io-crisis": "training.updates.io_crisis:IoCrisisUpdater",
}


def updater_class(model: str) -> type[Updater]:
    """The Updater class of ``model``."""
    module, _, name = UPDATERS[model].partition(":")
    cls: type[Updater] = getattr(import_module(module), name)
    return cls
