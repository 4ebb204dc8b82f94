"""The family registry: every served model, built from each family module's ``FAMILY``.

Each family has a serving half (``Predictor``: load state, predict in NumPy, in
``metrics_ai/families/<module>.py``, next to its :class:`~metrics_ai.families.base.Family`
descriptor) and a training half (``Trainer`` and ``Updater``, in
``training/families/<module>.py`` and ``training/updates/<module>.py``). The split keeps
the predictor image free of the fitting libraries (TensorFlow, Prophet, statsmodels).

Model names, the predictor lookup, the training job's trainer and updater lookups and
the predictor's served models are all derived from :data:`FAMILIES`; adding a family
means adding its module to the tuple below (docs/architecture.md lists the steps).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from metrics_ai.families import anomaly, disk_eta, forecast, io_crisis, node_outliers
from metrics_ai.families.base import Family, Predictor

#: served model name -> its descriptor, in the canonical order (the chart's, the CLI's tables).
FAMILIES: Mapping[str, Family[Any]] = MappingProxyType(
    {
        family.name: family
        for family in (anomaly.FAMILY, node_outliers.FAMILY, forecast.FAMILY, disk_eta.FAMILY, io_crisis.FAMILY)
    }
)

#: the served models' names, in the canonical order.
MODEL_NAMES: tuple[str, ...] = tuple(FAMILIES)


def predictor_class(model: str) -> type[Predictor]:
    """The Predictor class serving ``model``."""
    return FAMILIES[model].predictor
