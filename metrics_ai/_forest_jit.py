"""The forest walk compiled with Numba (optional: :mod:`metrics_ai.forest` falls back to NumPy).

A request of a few rows spends most of its time in NumPy's per-call overhead when the
walk is vectorised; a compiled loop does one tree at a time in a few hundred nanoseconds.
Compiled on first use and cached under ``NUMBA_CACHE_DIR`` (or next to this file, or in
the user's cache directory) when one is writable; where none is (an arbitrary UID on a
read-only root, no HOME), compiled without a cache, once per process, and said once in
the log: a cache is a speed-up, never a reason for a model not to load.
"""

from __future__ import annotations

import logging

import numpy as np
from numba import njit

log = logging.getLogger(__name__)


def _walk(
    x: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    children: np.ndarray,
    path: np.ndarray,
    roots: np.ndarray,
    normaliser: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Write ``2 ** (-mean path / c(n))`` for each row of ``x`` into ``out``."""
    for r in range(x.shape[0]):
        total = 0.0
        for t in range(roots.shape[0]):
            node = roots[t]
            while children[2 * node] != node:  # leaves point to themselves
                node = children[2 * node + (1 if x[r, feature[node]] > threshold[node] else 0)]
            total += path[node]
        out[r] = 2.0 ** (-total / normaliser)


try:
    walk = njit(cache=True, nogil=True)(_walk)
except RuntimeError as exc:  # numba: "cannot cache function 'walk': no locator available for file ..."
    log.warning("forest walk: no writable Numba cache directory (%s); compiling without a cache", exc)
    walk = njit(nogil=True)(_walk)
