"""What each family's drift reference summarises, for the training job and the predictor alike.

* anomaly-detector: its raw metrics (one feature per metric name), ``score`` and
  ``anomaly`` (1 for a flagged row: the share of anomalies, as two bins);
* node-outliers: its four features and ``score``;
* resource-forecast, io-crisis, disk-eta: the input level of each signal (training: every
  value of the series it fitted; live: the latest value of each request's history, or
  disk-eta's ``current_usage``, which it answers even for a fetched history).

The ``*_samples`` functions name the features; the training side calls them on its
training data, and :func:`sampler_for` calls them on answered requests, so both sides
summarise the same thing under the same names (every family's request and response
models, whether V1 or V2 carried them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from metrics_ai.drift import Sampler, Samples
from metrics_ai.families import FAMILIES
from metrics_ai.families.anomaly import AnomalyPredictor, AnomalyRequest, AnomalyResponse
from metrics_ai.families.base import Predictor
from metrics_ai.families.disk_eta import SIGNAL as DISK_SIGNAL
from metrics_ai.families.disk_eta import DiskEtaResponse
from metrics_ai.families.forecast.models import ForecastResponse
from metrics_ai.families.io_crisis import IoCrisisResponse
from metrics_ai.families.models import DomainResponse, SeriesRequest
from metrics_ai.families.node_outliers import FEATURES as OUTLIER_FEATURES
from metrics_ai.families.node_outliers import NodeOutlierRequest, NodeOutlierResponse


def anomaly_samples(rows: np.ndarray, metrics: tuple[str, ...], scores: np.ndarray, flags: np.ndarray) -> Samples:
    """anomaly-detector: raw rows ``[N, M]`` (columns in ``metrics`` order), scores and flags."""
    out: dict[str, np.ndarray] = {m: rows[:, j] for j, m in enumerate(metrics)}
    out["score"] = np.asarray(scores, dtype=np.float64)
    out["anomaly"] = np.asarray(flags, dtype=np.float64)
    return out


def outlier_samples(x: np.ndarray, scores: np.ndarray) -> Samples:
    """node-outliers: feature rows ``[N, 4]`` and scores."""
    out: dict[str, np.ndarray] = {f: x[:, j] for j, f in enumerate(OUTLIER_FEATURES)}
    out["score"] = np.asarray(scores, dtype=np.float64)
    return out


def level_samples(levels: Mapping[str, list[float] | np.ndarray]) -> Samples:
    """Forecast families: signal -> input levels."""
    return {signal: np.asarray(values, dtype=np.float64) for signal, values in levels.items()}


def _anomaly(predictor: Predictor) -> Sampler:
    assert isinstance(predictor, AnomalyPredictor)
    metrics = predictor.config.metrics

    def sample(request: AnomalyRequest, answer: AnomalyResponse) -> Samples:
        return anomaly_samples(request.metrics, metrics, answer.score, answer.is_anomaly)

    return sample


def _outliers(_: Predictor) -> Sampler:
    def sample(request: NodeOutlierRequest, answer: NodeOutlierResponse) -> Samples:
        return outlier_samples(request.features, answer.score)

    return sample


def _history_levels(request: SeriesRequest, _: DomainResponse) -> Samples:
    """The latest value of each history a request brings, by its signal."""
    levels: dict[str, list[float]] = {}
    for signal, history in zip(getattr(request, "signal"), request.history, strict=True):  # noqa: B009
        if history is not None and len(history):
            levels.setdefault(signal, []).append(float(history.values[-1]))
    return level_samples(levels)


def _disk_levels(_: SeriesRequest, response: DiskEtaResponse) -> Samples:
    """The usage disk-eta answered with (for fetched histories too)."""
    return level_samples({DISK_SIGNAL: [u for u in response.current_usage if u is not None]})


#: a family's response model -> how its answered requests are summarised
_SAMPLERS: dict[type[DomainResponse], Callable[[Predictor], Sampler]] = {
    AnomalyResponse: _anomaly,
    NodeOutlierResponse: _outliers,
    ForecastResponse: lambda _: _history_levels,
    IoCrisisResponse: lambda _: _history_levels,
    DiskEtaResponse: lambda _: _disk_levels,
}


def sampler_for(model: str, predictor: Predictor) -> Sampler | None:
    """How a served model's answered requests become drift samples (None: not summarised).

    A sampler takes what the codec observed: the request and response models, V1 and V2 alike.
    """
    make = _SAMPLERS.get(FAMILIES[model].response)
    return make(predictor) if make else None
