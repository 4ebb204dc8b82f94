"""Drift: a version's reference summary of its inputs and scores, the live window, PSI.

The training job summarises what a version was fitted on as a :class:`Reference`: per
feature, the inner edges of its training deciles and the share of training samples in
each of those bins. It is written into the version folder as ``drift_reference.json``
(checksummed in the manifest like every file). The predictor keeps a :class:`LiveWindow`
per served version: the same bins counted over the last ``size`` samples of real
requests, and :meth:`LiveWindow.psi` compares the two.

The figure is the population stability index over the reference's quantile bins,
``PSI = sum_i (live_i - ref_i) * ln(live_i / ref_i)`` (shares floored at ``EPS``): one
``searchsorted`` per batch and a sum over ten bins per scrape, symmetric, and read with
the usual rule of thumb: under 0.1 no shift, 0.1 to 0.25 a moderate one, over 0.25 a
major one. (A Kolmogorov-Smirnov statistic needs the raw samples of both sides, or
loses its exactness on binned ones; PSI is defined on the bins we keep anyway.)

Requests only append to a queue bounded at a window's worth of rows
(:meth:`LiveWindow.observe`); turning them into samples and counts happens when the window
is read (:meth:`LiveWindow.drain`, at a scrape), off the request path.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from metrics_ai.errors import ArtifactError

log = logging.getLogger(__name__)
REFERENCE_FILE = "drift_reference.json"
BINS = 10
EPS = 1e-4
"""Floor of a bin's share in PSI (an empty bin would make it infinite)."""
QUEUE_ROWS = 1024
"""Most rows queued between two drains (scrapes): a busy predictor's window refills over a
few scrapes from a sample of its requests, and the rest cost it nothing."""
MIN_SAMPLES = 50
"""Fewest training values a feature needs for a reference (fewer: its deciles say nothing)."""
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
"""The usual reading of PSI: under 0.1 stable, over 0.25 a major shift."""

Samples = Mapping[str, np.ndarray]
"""Feature name -> values (one per sample)."""
Sampler = Callable[[Any, Any], Samples]
"""(request, answer) -> the request's samples per feature (a family's, see :mod:`metrics_ai.drift_features`)."""


class FeatureReference(BaseModel):
    """One feature's bins: ``(-inf, e0], (e0, e1], ..., (e_last, inf)`` and the training share of each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    edges: list[float]
    shares: list[float]
    samples: int = Field(ge=1)

    def bins(self, values: np.ndarray) -> np.ndarray:
        """The bin index of each value."""
        return np.searchsorted(np.asarray(self.edges), values, side="left")


class Reference(BaseModel):
    """What a version was fitted on, per feature."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: dict[str, FeatureReference]

    def write(self, path: Path) -> None:
        """Write as JSON (a TrainOutcome extra file)."""
        path.write_text(self.model_dump_json(), encoding="utf-8")


def build_reference(samples: Samples, bins: int = BINS, min_samples: int = MIN_SAMPLES) -> Reference:
    """Quantile bins of each feature's finite training values (features with under ``min_samples``
    are left out: node-outliers has one row per node, a small fleet gives it none)."""
    features = {}
    for name, raw in samples.items():
        values = np.asarray(raw, dtype=np.float64).ravel()
        values = values[np.isfinite(values)]
        if values.size < min_samples:
            continue
        edges = np.unique(np.quantile(values, np.arange(1, bins) / bins))
        counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)
        features[name] = FeatureReference(
            edges=edges.tolist(), shares=(counts / values.size).tolist(), samples=int(values.size)
        )
    return Reference(features=features)


def read_reference(folder: Path, files: Mapping[str, str]) -> Reference | None:
    """The reference of a verified version folder; None for a version published without one.

    Args:
        folder: the version folder.
        files: the manifest's files (only a listed, hence verified, reference is read).

    Raises:
        ArtifactError: the file is listed but is not a reference.
    """
    if REFERENCE_FILE not in files:
        return None
    path = folder / REFERENCE_FILE
    try:
        return Reference.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise ArtifactError(f"{path}: not a drift reference: {exc}") from None


def psi(shares: np.ndarray, counts: np.ndarray) -> float:
    """PSI of live bin ``counts`` against reference ``shares`` (NaN without live samples)."""
    total = counts.sum()
    if total == 0:
        return math.nan
    live = np.maximum(counts / total, EPS)
    ref = np.maximum(shares, EPS)
    return float(np.sum((live - ref) * np.log(live / ref)))


class _Ring:
    """The bins of one feature's last ``size`` samples, and their counts."""

    def __init__(self, reference: FeatureReference, size: int) -> None:
        self.reference = reference
        self.shares = np.asarray(reference.shares)
        self.slots = np.zeros(size, dtype=np.int16)
        self.counts = np.zeros(len(reference.shares), dtype=np.int64)
        self.filled = 0
        self.pos = 0

    def add(self, values: np.ndarray) -> None:
        bins = self.reference.bins(values[np.isfinite(values)]).astype(np.int16)
        if bins.size == 0:
            return
        size = self.slots.size
        if bins.size >= size:
            self.slots[:] = bins[-size:]
            self.counts = np.bincount(self.slots, minlength=self.counts.size)
            self.filled, self.pos = size, 0
            return
        idx = (self.pos + np.arange(bins.size)) % size
        if self.filled == size:
            self.counts -= np.bincount(self.slots[idx], minlength=self.counts.size)
        self.slots[idx] = bins
        self.counts += np.bincount(bins, minlength=self.counts.size)
        self.filled = min(size, self.filled + bins.size)
        self.pos = (self.pos + bins.size) % size


class LiveWindow:
    """The reference's bins counted over the last ``size`` samples of each feature.

    Args:
        reference: the served version's reference.
        sampler: turns one (request, answer) into samples per feature.
        size: samples kept per feature (memory: 2 bytes each).
        queue_rows: rows (V1 instances, V2 tensor rows) queued between drains, at most.
    """

    def __init__(self, reference: Reference, sampler: Sampler, size: int, queue_rows: int = QUEUE_ROWS) -> None:
        self.reference = reference
        self.sampler = sampler
        self.size = size
        self.queue_rows = queue_rows
        self._rings = {name: _Ring(ref, size) for name, ref in reference.features.items()}
        self._pending: deque[tuple[Any, Any]] = deque()
        self._queued = 0
        self._lock = threading.Lock()

    def observe(self, request: Any, answer: Any) -> None:
        """Queue one answered request, unless ``queue_rows`` rows already wait.

        The request path's whole cost: a comparison and an append. Once the queue is full (a
        busy predictor between two scrapes), later requests are not sampled until the next
        drain: few requests' objects outlive their request (each one held costs the garbage
        collector), and none is held only to be evicted.
        """
        if self._queued >= self.queue_rows:
            return
        self._queued += len(next(iter(request.values()))) if isinstance(request, Mapping) else len(request)
        self._pending.append((request, answer))

    def drain(self) -> None:
        """Count the queued requests' samples into the window (oldest first)."""
        with self._lock:
            batch = []
            while self._pending:
                batch.append(self._pending.popleft())
            self._queued = 0
            taken: dict[str, list[np.ndarray]] = {}
            for request, answer in batch:
                try:
                    samples = self.sampler(request, answer)
                except Exception:  # an answered request that cannot be sampled is not counted
                    log.exception("drift: a request could not be sampled")
                    continue
                for name, values in samples.items():
                    if name in self._rings:
                        taken.setdefault(name, []).append(np.asarray(values, dtype=np.float64).ravel())
            for name, parts in taken.items():
                self._rings[name].add(np.concatenate(parts))

    def psi(self) -> dict[str, float]:
        """PSI per feature with live samples."""
        return {name: psi(r.shares, r.counts) for name, r in self._rings.items() if r.filled}

    def samples(self) -> int:
        """Samples in the window (the fullest feature's)."""
        return max((r.filled for r in self._rings.values()), default=0)
