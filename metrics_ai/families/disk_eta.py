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

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from metrics_ai.artifacts import Manifest
from metrics_ai.crossing import (
    DAY,
    HOUR,
    TrendState,
    curve_crossing,
    earliest,
    latest_history,
    level_offset,
    linear_eta_seconds,
    load_states,
    robust_slope,
    save_states,
    severity,
    to_days,
    without_one_off_jump,
)
from metrics_ai.entities import EntityIndex, Key, entity_labels, optional_cluster
from metrics_ai.errors import InvalidInputError, UnknownEntityError
from metrics_ai.families.base import HISTORY_INPUTS, TEXT_ROWS, Family, FamilyConfig, Predictor, TensorSpec
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History, parse_history
from metrics_ai.settings import Settings
from metrics_ai.v2rows import padded_histories, text_column

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


class DiskEtaPredictor(Predictor):
    """Per-disk Prophet states plus recent usage, answered in NumPy."""

    v2_inputs: ClassVar[dict[str, TensorSpec]] = {"node": TEXT_ROWS, "mountpoint": TEXT_ROWS, **HISTORY_INPUTS}
    v2_outputs: ClassVar[dict[str, TensorSpec]] = {
        "eta_days": TensorSpec("FP32", (-1,)),
        "severity": TensorSpec("BYTES", (-1,)),
    }

    def __init__(self, config: DiskEtaConfig, disks: dict[Key, DiskState]) -> None:
        self.config = config
        self.disks = disks
        self._index = EntityIndex(disks)

    def answer(
        self, cluster: str | None, node: str, mountpoint: str, history: History | None, field: str
    ) -> tuple[Eta, str, str | None, Key]:
        """(estimate, source, note, the disk's key) for one disk; ``field`` names the instance in errors.

        Without ``cluster`` the node's only cluster is meant; a node name in several
        clusters is a 400 naming ``<field>.cluster``.
        """
        key = self._index.resolve(cluster, node, mountpoint, field)
        disk = self.disks.get(key)
        source = "request"
        if history is None:
            history, source = self._latest(key, disk)
        if history is None:
            raise UnknownEntityError(
                f"{field}: disk node={node!r} mountpoint={mountpoint!r} is unknown to this model "
                "and no live source has it; send its history"
            )
        note = None
        if disk is None:
            note = "disk unknown to this model: linear trend only"
        elif disk.prophet is None:
            note = f"no Prophet model for this disk ({disk.reason}): linear trend only"
        return estimate(history, disk.prophet if disk else None, self.config), source, note, key

    def _latest(self, key: Key, disk: DiskState | None) -> tuple[History | None, str]:
        """The live window when it has enough points, else the training-time state."""
        cfg = self.config
        labels = entity_labels(key[0], key[1], mountpoint=key[2])
        return latest_history(self.fetcher, SIGNAL, labels, disk, cfg.recent_hours, cfg.recent_step, cfg.min_points)

    def predict_v1(self, instances: list[Any]) -> list[dict[str, Any]]:
        """One ETA answer per ``{"node", "mountpoint", "cluster"?, "history"?}``."""
        if not isinstance(instances, list) or not instances:
            raise InvalidInputError(
                "instances", 'expected a non-empty list of {"node", "mountpoint", "cluster"?, "history"?}'
            )
        parsed = [self._parse_v1(i, inst) for i, inst in enumerate(instances)]
        out = []
        for i, (cluster, node, mountpoint, history) in enumerate(parsed):
            eta, source, note, key = self.answer(cluster, node, mountpoint, history, f"instances[{i}]")
            pred: dict[str, Any] = {
                **({"cluster": key[0]} if key[0] else {}),
                "node": node,
                "mountpoint": mountpoint,
                "current_usage": eta.current,
                "threshold": self.config.threshold,
                "eta_days": {
                    "linear": eta.linear,
                    "prophet": eta.prophet,
                    "ensemble": eta.ensemble,
                },
                "severity": eta.severity,
                "source": source,
            }
            if eta.reason:
                pred["reason"] = eta.reason
            elif note:
                pred["note"] = note
            out.append(pred)
        return out

    def _parse_v1(self, i: int, inst: Any) -> tuple[str | None, str, str, History | None]:
        field = f"instances[{i}]"
        if not isinstance(inst, Mapping):
            raise InvalidInputError(field, 'expected an object {"node", "mountpoint", "cluster"?, "history"?}')
        extra = sorted(set(inst) - {"cluster", "node", "mountpoint", "history"})
        if extra:
            raise InvalidInputError(field, f"unknown key(s) {extra}; expected node, mountpoint, cluster, history")
        for key in ("node", "mountpoint"):
            if not isinstance(inst.get(key), str) or not inst.get(key):
                raise InvalidInputError(f"{field}.{key}", "expected a non-empty string")
        cluster = optional_cluster(inst, field)
        history = None
        if inst.get("history") is not None:
            history = parse_history(inst["history"], f"{field}.history")
            check_percent(history.values, f"{field}.history.values")
        return cluster, inst["node"], inst["mountpoint"], history

    def infer_v2(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """node, mountpoint BYTES [N], timestamps INT64 [N, T], values FP32 [N, T] (NaN-padded).

        Returns eta_days FP32 [N] (+inf: never; NaN: too few points to say) and
        severity BYTES [N].
        """
        histories = padded_histories(inputs["timestamps"], inputs["values"])
        n = len(histories)
        nodes = text_column(inputs["node"], "node", n)
        mounts = text_column(inputs["mountpoint"], "mountpoint", n)
        for i, h in enumerate(histories):
            if h is not None:
                check_percent(h.values, f"values[{i}]")
        eta_days = np.empty(n, dtype=np.float32)
        grades = np.empty(n, dtype=object)
        for i in range(n):
            eta, _, _, _ = self.answer(None, nodes[i], mounts[i], histories[i], f"node[{i}]")
            value = eta.ensemble
            eta_days[i] = np.nan if eta.reason else (np.inf if value is None else value)
            grades[i] = eta.severity.encode()
        return {"eta_days": eta_days, "severity": grades}

    def smoke_instances(self) -> list[Any]:
        """The first disk with state, without history, and with its own recent history."""
        cluster, node, mount = next(k for k, d in self.disks.items() if len(d.recent))
        recent = self.disks[(cluster, node, mount)].recent
        history = {"timestamps": recent.timestamps.tolist(), "values": recent.values.tolist()}
        disk = {**({"cluster": cluster} if cluster else {}), "node": node, "mountpoint": mount}
        return [disk, {**disk, "history": history}]

    def save(self, folder: Path) -> None:
        """``disks.json`` (config, Prophet states) and ``recent.npz`` (recent usage)."""
        save_states(folder, "disks", LABELS, self.config.model_dump(mode="json"), self.disks)

    @classmethod
    def load(cls, folder: Path, manifest: Manifest) -> DiskEtaPredictor:
        """Read what :meth:`save` wrote."""
        config, disks = load_states(folder, "disks", LABELS, FAMILY.name)
        return cls(DiskEtaConfig.model_validate(config), disks)


def check_percent(values: np.ndarray, field: str) -> None:
    """Used percent must lie in [0, 100]."""
    bad = (values < 0) | (values > 100)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(f"{field}[{j}]", f"{values[j]:g} is not a used percent in [0, 100]")


def config_from(settings: Settings) -> DiskEtaConfig:
    """A training run's hyper-parameters."""
    return DiskEtaConfig(threshold=settings.disk_threshold)


def positive(prediction: Mapping[str, Any]) -> bool:
    """Any severity but OK raises an alarm."""
    return prediction.get("severity") not in (None, "OK")


FAMILY: Family[DiskEtaConfig] = Family(
    name="disk-eta",
    module="disk_eta",
    config=DiskEtaConfig,
    predictor=DiskEtaPredictor,
    signals=(SIGNAL,),
    config_from=config_from,
    positive=positive,
)
