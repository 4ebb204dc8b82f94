"""io-crisis update: each node signal's trend re-estimated on the latest window.

As disk-eta's update (:mod:`training.updates.disk_eta`): the saved Prophet fit keeps its
seasonal terms and gets a straight-line trend fitted on the window; the full run's
backtest (crisis replay and forecast error on the window's tail) for the re-estimate and
for the saved fit on the same tail; a series keeps its saved fit when the re-estimate did
worse there (more crisis mistakes, or a larger forecast error), else the re-estimate on
the whole window is served; recent history refreshed either way; new series get a cold
Prophet fit; series missing from the window are kept (:mod:`training.updates.crossing`).
"""

from __future__ import annotations

from metrics_ai.families.io_crisis import FAMILY
from training.families.io_crisis import FIT
from training.updates.crossing import CrossingUpdater


class IoCrisisUpdater(CrossingUpdater):
    """Trend re-estimate per node signal; backtest against the current fit on the same tail."""

    family = FAMILY
    fitting = FIT
