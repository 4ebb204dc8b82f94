"""Drift figures on ``/metrics``: each served version's live window against its reference.

The windows are filled off the request path: a request only queues itself
(:meth:`metrics_ai.drift.LiveWindow.observe`); a scrape drains the queues and renders
``metrics_ai_drift_psi{model,feature}`` and ``metrics_ai_drift_window_samples{model}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from metrics_ai.artifacts import Manifest
from metrics_ai.drift import LiveWindow, read_reference
from metrics_ai.drift_features import sampler_for
from metrics_ai.families.base import Predictor

PSI = "metrics_ai_drift_psi"
SAMPLES = "metrics_ai_drift_window_samples"


class DriftCollector(Collector):
    """Renders the drift of every watched model at scrape time.

    Args:
        size: samples per model and feature in a live window (0: drift monitoring off).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._windows: dict[str, Callable[[], LiveWindow | None]] = {}

    def watch(self, model: str, window: Callable[[], LiveWindow | None]) -> None:
        """Render ``model``'s drift from whatever window ``window()`` returns at each scrape."""
        self._windows[model] = window

    def window_for(self, model: str, predictor: Predictor, folder: Path, manifest: Manifest) -> LiveWindow | None:
        """A fresh live window for a version being loaded (None: off, or no reference in it).

        Raises:
            ArtifactError: the version lists a reference that is not one.
        """
        if self.size == 0:
            return None
        reference = read_reference(folder, manifest.files)
        sampler = sampler_for(model, predictor)
        if reference is None or sampler is None:
            return None
        return LiveWindow(reference, sampler, self.size)

    def describe(self) -> Iterator[Metric]:
        """The families (registration need not drain anything)."""
        yield GaugeMetricFamily(PSI, "", labels=["model", "feature"])
        yield GaugeMetricFamily(SAMPLES, "", labels=["model"])

    def collect(self) -> Iterator[Metric]:
        """Drain each window and render its PSI per feature and its sample count."""
        psi = GaugeMetricFamily(
            PSI,
            "Population stability index of the latest requests' feature against the served version's "
            "training reference (quantile bins; < 0.1 stable, > 0.25 major shift).",
            labels=["model", "feature"],
        )
        samples = GaugeMetricFamily(
            SAMPLES, "Samples in the live drift window of each model (the fullest feature's).", labels=["model"]
        )
        for model, current in sorted(self._windows.items()):
            window = current()
            if window is None:
                continue
            window.drain()
            samples.add_metric([model], window.samples())
            for feature, value in sorted(window.psi().items()):
                if not math.isnan(value):
                    psi.add_metric([model, feature], value)
        yield psi
        yield samples
