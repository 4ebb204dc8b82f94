"""resource-forecast's crisis check (the original I/O ensemble's ``any(ensemble > threshold)``).

For io_wait, net_rx and net_tx the answer says whether the ensemble forecast crosses
the signal's crisis threshold (IO_WAIT_THRESHOLD, NET_THRESHOLD) within the horizon,
and at which forecast timestamp it first does. cpu and memory have no crisis threshold
and answer ``null``. io-crisis answers the same question days ahead from its own
Prophet fits; this is the horizon-minutes view of the ensemble.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def crisis_check(
    signal: str,
    times: np.ndarray,
    ensemble: np.ndarray,
    thresholds: Mapping[str, float],
    stamp: Callable[[float], Any] = float,
) -> dict[str, Any] | None:
    """``{"threshold", "crosses", "at"}`` for a signal with a crisis threshold, else None.

    Args:
        signal: the forecast signal.
        times: forecast timestamps, unix seconds [H].
        ensemble: the ensemble forecast [H].
        thresholds: signal -> crisis threshold.
        stamp: formats the crossing time (e.g. as RFC 3339); unix seconds by default.

    Returns:
        ``crosses`` is ``any(ensemble > threshold)``; ``at`` the first forecast timestamp
        above it (None when none is).
    """
    threshold = thresholds.get(signal)
    if threshold is None:
        return None
    above = np.flatnonzero(np.asarray(ensemble, dtype=np.float64) > threshold)
    return {
        "threshold": float(threshold),
        "crosses": bool(above.size),
        "at": stamp(float(times[above[0]])) if above.size else None,
    }
