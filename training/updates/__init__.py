"""Incremental updates of published models (``python -m training update``), one module per family.

:data:`UPDATERS` names each family's :class:`training.updates.base.Updater`; the
generic flow (read the latest window, load the current version, update, backtest,
publish through the same gate) is :mod:`training.update`.
"""
