"""Incremental updates of published models (``python -m training update``), one module per family.

A family's :class:`training.updates.base.Updater` lives in ``training/updates/<module>.py``
and declares ``family = FAMILY`` (found by :func:`updater_class`); the generic flow (read
the latest window, load the current version, update, backtest, publish through the same
gate) is :mod:`training.update`.
"""

from __future__ import annotations

from typing import cast

from training.families import declared_class
from training.updates.base import Updater


def updater_class(model: str) -> type[Updater]:
    """The Updater class of ``model``."""
    return cast("type[Updater]", declared_class(__name__, model, Updater))
