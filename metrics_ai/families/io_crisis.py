"""io-crisis: will I/O wait or network bandwidth cross its crisis threshold within 7 days?

One Prophet fit per node and signal (n_changepoints 10, Prophet's automatic
seasonalities, on hourly means), exported at training time and evaluated here in
NumPy: the curve, shifted by the median residual of the last 6 h of the data at
hand (level correction), is searched on an hourly grid over the horizon and the
crossing refined between the two grid points that straddle it. ``crisis`` and
``days_to_crisis`` are about that expected (hourly-mean) level, so a single spiky
sample neither raises nor clears a crisis; ``forecast_peak`` is the curve's
maximum over the horizon. Days count from the last sample.

A node the model does not know, sent with history, is answered from that history
alone (``"note"`` says so): the last day's hourly profile repeated daily plus the
robust trend (:func:`metrics_ai.crossing.drift_curve`). Under 50 points: no
answer beyond ``"reason"`` (crisis false, days null).

Series are keyed by cluster, node and signal (:mod:`metrics_ai.entities`): a V1
instance may name its ``cluster``; without it the node's only cluster is meant, and a
node name known in several clusters is a 400 naming ``cluster``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from metrics_ai.crossing import DAY, HOUR, TrendState, curve_crossing, drift_curve, level_offset, to_days
from metrics_ai.entities import Key, entity_labels
from metrics_ai.families.base import Family, FamilyConfig, TensorSpec
from metrics_ai.families.crossing import CrossingPredictor, CrossingResponse, CrossingSpec, ValueRange, crossing_layout
from metrics_ai.families.models import SeriesLayout, SeriesRequest, Text
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History
from metrics_ai.settings import Settings

SIGNALS: tuple[str, ...] = ("io_wait", "net_rx", "net_tx")
#: the largest value each signal can take (io_wait is a ratio; 1e13 B/s = 80 Tbit/s is no real NIC,
#: and keeps trend arithmetic far from float overflow)
UPPER: dict[str, float] = {"io_wait": 1.0, "net_rx": 1e13, "net_tx": 1e13}
LABELS: tuple[str, str, str] = ("cluster", "node", "signal")
"""A series' key (:data:`metrics_ai.entities.Key`)."""


class IoCrisisConfig(FamilyConfig):
    """Hyper-parameters (original system where it had them)."""

    thresholds: dict[str, float] = Field(default_factory=lambda: {"io_wait": 0.30, "net_rx": 9.5e8, "net_tx": 9.5e8})
    horizon_days: float = Field(7.0, gt=0)
    n_changepoints: int = Field(10, ge=0)
    min_points: int = Field(50, ge=2)
    level_hours: float = Field(6.0, gt=0)
    grid_seconds: float = Field(HOUR, gt=0)
    recent_hours: float = Field(72.0, gt=0)
    recent_step: int = Field(300, ge=1)


SeriesState = TrendState
"""What the model keeps about one node's signal."""


@dataclass(frozen=True)
class Crisis:
    """One answer: days to crossing (None: not within the horizon) and the forecast peak."""

    days: float | None
    peak: float | None
    reason: str | None = None


def forecast_crisis(history: History, prophet: ProphetState | None, threshold: float, cfg: IoCrisisConfig) -> Crisis:
    """Days to crisis and forecast peak for one series (Prophet when given, else drift)."""
    if len(history) < cfg.min_points:
        return Crisis(None, None, f"only {len(history)} points; a forecast needs at least {cfg.min_points}")
    t, v = history.timestamps, history.values
    curve: Callable[[np.ndarray], np.ndarray]
    if prophet is not None:
        offset = level_offset(t, v, prophet.predict, cfg.level_hours * HOUR)

        def curve(g: np.ndarray) -> np.ndarray:
            return prophet.predict(g) + offset
    else:
        curve = drift_curve(t, v)
    seconds, peak = curve_crossing(curve, float(t[-1]), cfg.horizon_days * DAY, threshold, cfg.grid_seconds)
    return Crisis(to_days(seconds), peak)


def crisis_answer(history: History, prophet: ProphetState | None, cfg: IoCrisisConfig, signal: str) -> Crisis:
    """:func:`forecast_crisis` against the signal's threshold."""
    return forecast_crisis(history, prophet, cfg.thresholds[signal], cfg)


def series_query(key: Key) -> tuple[str, dict[str, str]]:
    """What the live source is asked for: the key's signal of the node."""
    return key[2], entity_labels(key[0], key[1])


def signal_threshold(cfg: IoCrisisConfig, signal: str) -> float:
    """The signal's crisis threshold."""
    return cfg.thresholds[signal]


def signal_range(signal: str) -> ValueRange:
    """Values must be non-negative (io_wait: a ratio in [0, 1]; bytes/s up to :data:`UPPER`)."""
    upper = UPPER[signal]
    return ValueRange(upper, "a ratio in [0, 1]" if signal == "io_wait" else f"bytes/s in [0, {upper:g}]")


def series_entity(node: str, signal: str) -> str:
    """A series as a 404 names it."""
    return f"node {node!r} signal {signal!r}"


class IoCrisisRequest(SeriesRequest):
    """Series by node and signal (and cluster, V1), each with its history or none (V2: ``entity`` is the node)."""

    layout: ClassVar[SeriesLayout] = crossing_layout("signal", ("entity", "signal"))

    node: list[Text]
    signal: list[Text]
    cluster: list[str | None]


class IoCrisisResponse(CrossingResponse):
    """Per series: threshold, whether a crisis comes, when (days; None: not within the horizon), the peak."""

    v2_outputs: ClassVar[dict[str, TensorSpec]] = {
        "crisis": TensorSpec("BOOL", (-1,)),
        "days_to_crisis": TensorSpec("FP32", (-1,)),
        "forecast_peak": TensorSpec("FP32", (-1,)),
    }

    cluster: list[str | None]
    node: list[str]
    signal: list[str]
    threshold: list[float]
    crisis: list[bool]
    days_to_crisis: list[float | None]
    forecast_peak: list[float | None]
    source: list[str]
    reason: list[str | None]
    note: list[str | None]

    def positives(self) -> np.ndarray:
        """A predicted crisis raises an alarm."""
        return np.array(self.crisis, dtype=bool)

    def v2_columns(self) -> dict[str, Any]:
        """crisis [N], days_to_crisis [N] (+inf: not within the horizon; NaN: too few points), forecast_peak [N]."""
        return {
            "crisis": self.crisis,
            "days_to_crisis": [
                np.nan if reason else (np.inf if days is None else days)
                for days, reason in zip(self.days_to_crisis, self.reason, strict=True)
            ],
            "forecast_peak": [np.nan if peak is None else peak for peak in self.forecast_peak],
        }


def fields(crisis: Crisis, threshold: float) -> dict[str, Any]:
    """One series' columns: threshold, whether a crisis comes, when, and the forecast peak."""
    return {
        "threshold": threshold,
        "crisis": crisis.days is not None,
        "days_to_crisis": crisis.days,
        "forecast_peak": crisis.peak,
    }


SPEC: CrossingSpec[IoCrisisConfig, Crisis] = CrossingSpec(
    name="io-crisis",
    config=IoCrisisConfig,
    labels=LABELS,
    signals=SIGNALS,
    state_file="series",
    key_values=SIGNALS,
    value_range=signal_range,
    query=series_query,
    threshold=signal_threshold,
    estimate=crisis_answer,
    entity=series_entity,
    unknown_note="node unknown to this model: daily profile and trend of the history sent",
    no_model_note="no Prophet model for this series ({reason}): daily profile and trend",
    request=IoCrisisRequest,
    response=IoCrisisResponse,
    fields=fields,
)


class IoCrisisPredictor(CrossingPredictor[IoCrisisConfig, Crisis]):
    """Per node and signal Prophet states plus recent values, answered in NumPy."""

    spec = SPEC
    request = IoCrisisRequest

    @property
    def series(self) -> dict[Key, SeriesState]:
        """The states by series."""
        return self.states


def config_from(settings: Settings) -> IoCrisisConfig:
    """A training run's hyper-parameters."""
    return IoCrisisConfig(
        thresholds={
            "io_wait": settings.io_wait_threshold,
            "net_rx": settings.net_threshold,
            "net_tx": settings.net_threshold,
        }
    )


FAMILY: Family[IoCrisisConfig] = Family(
    name=SPEC.name,
    module="io_crisis",
    config=IoCrisisConfig,
    predictor=IoCrisisPredictor,
    signals=SPEC.signals,
    config_from=config_from,
    request=IoCrisisRequest,
    response=IoCrisisResponse,
)
