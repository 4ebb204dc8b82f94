"""disk-eta: in how many days does this filesystem reach the threshold (90 %)?

Two estimates per disk, the earlier wins (original system):

* linear: the latest usage plus a robust recent trend
  (:func:`metrics_ai.crossing.robust_slope`: day-over-day differences of hourly
  means over the last 48 h, immune to nightly log rotation and noise);
* prophet: the disk's Prophet fit (daily + weekly seasonality, changepoint prior
  0.05; weekly only from two weeks of history, see ``weekly_min_days``), exported
  at training time and evaluated here in NumPy on an hourly grid over the next
  30 days (the SOON grade reaches that far), the crossing refined
  between the two grid points that straddle it. The fit is shifted by the median
  residual of the last 6 h of the data at hand (the level correction), so fresh
  history moves the curve without refitting.

A one-off upward jump within the last 48 h (a deploy landing an image) is taken
out of both trends (:func:`metrics_ai.crossing.without_one_off_jump`), at training
time as on the request path: the disk keeps its new level, the step is not read as
growth. Repeated jumps (a daily dump that is never deleted) remain growth.

ETAs count days from the last sample. ``null`` means the threshold is not reached
(linear: not within a year; prophet: not within 30 days). Nothing is fitted on the
request path. A disk the model does not know, sent with history, gets the linear
estimate only (``"note"`` says so); under 50 points there is no estimate at all
(``"reason"`` says so, severity stays within the contract's grades: OK unless the
disk is already at the threshold).

Disks are keyed by cluster, node and mountpoint (:mod:`metrics_ai.entities`): a V1
instance may name its ``cluster``; without it the node's only cluster is meant, and a
node name known in several clusters is a 400 naming ``cluster``. The answer carries
``cluster`` for a node in a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from metrics_ai.crossing import (
    DAY,
    HOUR,
    TrendState,
    curve_crossing,
    earliest,
    level_offset,
    linear_eta_seconds,
    robust_slope,
    severity,
    to_days,
    without_one_off_jump,
)
from metrics_ai.entities import Key, entity_labels
from metrics_ai.families.base import Family, FamilyConfig, TensorSpec
from metrics_ai.families.crossing import CrossingPredictor, CrossingResponse, CrossingSpec, ValueRange, crossing_layout
from metrics_ai.families.models import SeriesLayout, SeriesRequest, Text
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History
from metrics_ai.settings import Settings

SIGNAL = "disk_used_pct"
LABELS: tuple[str, str, str] = ("cluster", "node", "mountpoint")
"""A disk's key (:data:`metrics_ai.entities.Key`)."""


class DiskEtaConfig(FamilyConfig):
    """Hyper-parameters (original system where it had them)."""

    threshold: float = Field(90.0, gt=0, le=100)
    min_points: int = Field(50, ge=2)
    slope_window_hours: float = Field(48.0, gt=0)
    level_hours: float = Field(6.0, gt=0)
    horizon_days: float = Field(7.0, gt=0)
    """Prophet forecast horizon of the original system (the usage backtest's horizon)."""
    search_days: float = Field(30.0, gt=0)
    """How far ahead the Prophet curve is searched for a crossing."""
    max_linear_days: float = Field(365.0, gt=0)
    grid_seconds: float = Field(HOUR, gt=0)
    changepoint_prior_scale: float = Field(0.05, gt=0)
    changepoint_range: float = Field(0.9, gt=0, le=1)
    """Share of the history that may hold trend changes (Prophet's 0.8 reacts a day later)."""
    weekly_min_days: float = Field(14.0, gt=0)
    """Weekly seasonality only with this much history (Prophet's own "auto" rule)."""
    recent_hours: float = Field(72.0, gt=0)
    """History kept per disk (and fetched) for requests that bring none."""
    recent_step: int = Field(300, ge=1)


DiskState = TrendState
"""What the model keeps about one disk."""


@dataclass(frozen=True)
class Eta:
    """One disk's estimate."""

    current: float | None
    linear: float | None
    prophet: float | None
    reason: str | None = None

    @property
    def ensemble(self) -> float | None:
        """The earlier of the two (None = never)."""
        return None if self.reason else earliest(self.linear, self.prophet)

    @property
    def days(self) -> float | None:
        """The answer's days to the threshold: the ensemble."""
        return self.ensemble

    @property
    def severity(self) -> str:
        """The contract's grade of the ensemble."""
        return severity(self.ensemble)


def estimate(history: History, prophet: ProphetState | None, cfg: DiskEtaConfig) -> Eta:
    """Linear, Prophet and ensemble ETAs (days) for one disk's history."""
    t, v = history.timestamps, history.values
    current = float(v[-1])
    if current >= cfg.threshold:
        return Eta(current, 0.0, 0.0 if prophet is not None else None)
    if len(history) < cfg.min_points:
        reason = f"only {len(history)} points; an estimate needs at least {cfg.min_points}"
        return Eta(current, None, None, reason)
    trend = trend_series(t, v, cfg)
    slope = robust_slope(t, trend, window=cfg.slope_window_hours * HOUR)
    linear = to_days(linear_eta_seconds(current, slope, cfg.threshold))
    if linear is not None and linear > cfg.max_linear_days:
        linear = None
    # A day or more of data that is not growing overrules a trend learnt at training time:
    # the level-corrected Prophet curve would otherwise keep warning about a disk that
    # has since stopped filling (or is being cleaned up).
    stalled = slope <= 0 and t[-1] - t[0] >= DAY
    return Eta(current, linear, prophet_eta(t, trend, prophet, cfg) if prophet is not None and not stalled else None)


def trend_series(t: np.ndarray, v: np.ndarray, cfg: DiskEtaConfig) -> np.ndarray:
    """Usage with a one-off jump of the last 48 h taken out (what trends are read from)."""
    return without_one_off_jump(t, v, window=cfg.slope_window_hours * HOUR)


def prophet_eta(t: np.ndarray, v: np.ndarray, prophet: ProphetState, cfg: DiskEtaConfig) -> float | None:
    """Days until the level-corrected Prophet curve reaches the threshold (None: not in time)."""
    offset = level_offset(t, v, prophet.predict, cfg.level_hours * HOUR)
    seconds, _ = curve_crossing(
        lambda g: prophet.predict(g) + offset,
        float(t[-1]),
        cfg.search_days * DAY,
        cfg.threshold,
        cfg.grid_seconds,
    )
    return to_days(seconds)


def disk_estimate(history: History, prophet: ProphetState | None, cfg: DiskEtaConfig, mountpoint: str) -> Eta:
    """:func:`estimate` as the crossing predictor asks for it (the mountpoint does not matter)."""
    return estimate(history, prophet, cfg)


def disk_query(key: Key) -> tuple[str, dict[str, str]]:
    """What the live source is asked for: the disk's usage by cluster, node and mountpoint."""
    return SIGNAL, entity_labels(key[0], key[1], mountpoint=key[2])


def disk_threshold(cfg: DiskEtaConfig, mountpoint: str) -> float:
    """Every disk's threshold is the config's."""
    return cfg.threshold


def percent_range(mountpoint: str) -> ValueRange:
    """Used percent lies in [0, 100]."""
    return ValueRange(100.0, "a used percent in [0, 100]")


def disk_entity(node: str, mountpoint: str) -> str:
    """A disk as a 404 names it."""
    return f"disk node={node!r} mountpoint={mountpoint!r}"


class DiskEtaRequest(SeriesRequest):
    """Disks by node and mountpoint (and cluster, V1), each with its history or none."""

    layout: ClassVar[SeriesLayout] = crossing_layout("mountpoint", ("node", "mountpoint"))

    node: list[Text]
    mountpoint: list[Text]
    cluster: list[str | None]


class DiskEtaResponse(CrossingResponse):
    """Per disk: usage, threshold, the three ETAs (days; None: never) and the grade."""

    v2_outputs: ClassVar[dict[str, TensorSpec]] = {
        "eta_days": TensorSpec("FP32", (-1,)),
        "severity": TensorSpec("BYTES", (-1,)),
    }

    cluster: list[str | None]
    node: list[str]
    mountpoint: list[str]
    current_usage: list[float | None]
    threshold: list[float]
    eta_days: list[dict[str, float | None]]
    severity: list[str]
    source: list[str]
    reason: list[str | None]
    note: list[str | None]

    def positives(self) -> np.ndarray:
        """Any severity but OK raises an alarm."""
        return np.array([s != "OK" for s in self.severity], dtype=bool)

    def v2_columns(self) -> dict[str, Any]:
        """eta_days [N] (the ensemble; +inf: never; NaN: too few points to say) and severity [N]."""
        eta_days = [
            np.nan if reason else (np.inf if eta["ensemble"] is None else eta["ensemble"])
            for eta, reason in zip(self.eta_days, self.reason, strict=True)
        ]
        grades = np.empty(len(self.severity), dtype=object)
        grades[:] = [s.encode() for s in self.severity]
        return {"eta_days": eta_days, "severity": grades}


def fields(eta: Eta, threshold: float) -> dict[str, Any]:
    """One disk's columns: usage, threshold, the three ETAs and the grade."""
    return {
        "current_usage": eta.current,
        "threshold": threshold,
        "eta_days": {"linear": eta.linear, "prophet": eta.prophet, "ensemble": eta.ensemble},
        "severity": eta.severity,
    }


SPEC: CrossingSpec[DiskEtaConfig, Eta] = CrossingSpec(
    name="disk-eta",
    config=DiskEtaConfig,
    labels=LABELS,
    signals=(SIGNAL,),
    state_file="disks",
    key_values=None,
    value_range=percent_range,
    query=disk_query,
    threshold=disk_threshold,
    estimate=disk_estimate,
    entity=disk_entity,
    unknown_note="disk unknown to this model: linear trend only",
    no_model_note="no Prophet model for this disk ({reason}): linear trend only",
    request=DiskEtaRequest,
    response=DiskEtaResponse,
    fields=fields,
)


class DiskEtaPredictor(CrossingPredictor[DiskEtaConfig, Eta]):
    """Per-disk Prophet states plus recent usage, answered in NumPy."""

    spec = SPEC
    request = DiskEtaRequest

    @property
    def disks(self) -> dict[Key, DiskState]:
        """The states by disk."""
        return self.states


def config_from(settings: Settings) -> DiskEtaConfig:
    """A training run's hyper-parameters."""
    return DiskEtaConfig(threshold=settings.disk_threshold)


FAMILY: Family[DiskEtaConfig] = Family(
    name=SPEC.name,
    module="disk_eta",
    config=DiskEtaConfig,
    predictor=DiskEtaPredictor,
    signals=SPEC.signals,
    config_from=config_from,
    request=DiskEtaRequest,
    response=DiskEtaResponse,
)
