"""disk-eta update: each disk's trend re-estimated on the latest window.

Per disk, with the saved config and the full run's own functions (one-off jump removal,
hourly means, backtest with usage forecast and alarm replay on the window's tail): the
saved Prophet fit keeps its seasonal terms and gets a new trend, a straight line fitted
on the window less those terms (:func:`training.updates.prophet.retrend`). No Stan fit:
a Prophet fit costs ~0.1 s whatever its length (a warm refit of a demo disk measured 68 ms
with its backtest, as much as the full run's fit), the re-estimate 3 ms.

The backtest runs twice, with the re-estimate from the window's training part and with
the saved fit as it is; a disk keeps its saved fit when the re-estimate did worse on
that tail (more alarm mistakes, or a larger usage error): a trend read from two days is
noisier than one read from the full run's week. Otherwise the re-estimate on the whole
window is served. The recent usage kept for requests without history is refreshed
either way: the saved one followed by the window. A new disk gets a cold Prophet fit; a
disk missing from the window keeps its state. The gate then holds the served choice
against the current version on the same tail (the flow is :mod:`training.updates.crossing`'s).
"""

from __future__ import annotations

from metrics_ai.families.disk_eta import FAMILY
from training.families.disk_eta import FIT
from training.updates.crossing import CrossingUpdater


class DiskEtaUpdater(CrossingUpdater):
    """Trend re-estimate per disk; backtest against the current fit on the same tail."""

    family = FAMILY
    fitting = FIT
