"""Training halves of the model families, found through each family's descriptor.

A family's Trainer lives in ``training/families/<module>.py`` (``module`` from its
:class:`~metrics_ai.families.base.Family`) and declares ``family = FAMILY``; its Updater
does the same in ``training/updates/<module>.py``. Nothing here lists the families.
"""

from __future__ import annotations

from importlib import import_module
from typing import cast

from metrics_ai.families import FAMILIES
from training.families.base import Trainer


def declared_class(package: str, model: str, base: type) -> type:
    """The one subclass of ``base`` in ``<package>.<module>`` that declares ``model``'s family (``family = FAMILY``).

    Raises:
        KeyError: ``model`` is no served model.
        LookupError: the module declares no such class, or more than one.
    """
    family = FAMILIES[model]
    module = import_module(f"{package}.{family.module}")
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, base) and vars(obj).get("family") is family
    ]
    if len(found) != 1:
        raise LookupError(f"{module.__name__}: expected one {base.__name__} with family = {model}, found {found}")
    return found[0]


def trainer_class(model: str) -> type[Trainer]:
    """The Trainer class of ``model``."""
    return cast("type[Trainer]", declared_class(__name__, model, Trainer))
