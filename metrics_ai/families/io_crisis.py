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

from collections.abc import Callable, Mapping
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
    drift_curve,
    latest_history,
    level_offset,
    load_states,
    save_states,
    to_days,
)
from metrics_ai.entities import EntityIndex, Key, entity_labels, optional_cluster
from metrics_ai.errors import InvalidInputError, UnknownEntityError
from metrics_ai.families.base import HISTORY_INPUTS, TEXT_ROWS, Family, FamilyConfig, Predictor, TensorSpec
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History, parse_history
from metrics_ai.settings import Settings
from metrics_ai.v2rows import padded_histories, text_column

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


class IoCrisisPredictor(Predictor):
    """Per node and signal Prophet states plus recent values, answered in NumPy."""

    v2_inputs: ClassVar[dict[str, TensorSpec]] = {"entity": TEXT_ROWS, "signal": TEXT_ROWS, **HISTORY_INPUTS}
    v2_outputs: ClassVar[dict[str, TensorSpec]] = {
        "crisis": TensorSpec("BOOL", (-1,)),
        "days_to_crisis": TensorSpec("FP32", (-1,)),
        "forecast_peak": TensorSpec("FP32", (-1,)),
    }

    def __init__(self, config: IoCrisisConfig, series: dict[Key, SeriesState]) -> None:
        self.config = config
        self.series = series
        self._index = EntityIndex(series)

    def answer(
        self, cluster: str | None, node: str, signal: str, history: History | None, field: str
    ) -> tuple[Crisis, str, str | None, Key]:
        """(answer, source, note, the series' key) for one series; ``field`` names the instance in errors.

        Without ``cluster`` the node's only cluster is meant; a node name in several
        clusters is a 400 naming ``<field>.cluster``.
        """
        key = self._index.resolve(cluster, node, signal, field)
        state = self.series.get(key)
        source = "request"
        if history is None:
            history, source = self._latest(key, state)
        if history is None:
            raise UnknownEntityError(
                f"{field}: node {node!r} signal {signal!r} is unknown to this model "
                "and no live source has it; send its history"
            )
        note = None
        if state is None:
            note = "node unknown to this model: daily profile and trend of the history sent"
        elif state.prophet is None:
            note = f"no Prophet model for this series ({state.reason}): daily profile and trend"
        prophet = state.prophet if state else None
        return (
            forecast_crisis(history, prophet, self.config.thresholds[signal], self.config),
            source,
            note,
            key,
        )

    def _latest(self, key: Key, state: SeriesState | None) -> tuple[History | None, str]:
        """The live window when it has enough points, else the training-time state."""
        cfg = self.config
        return latest_history(
            self.fetcher,
            key[2],
            entity_labels(key[0], key[1]),
            state,
            cfg.recent_hours,
            cfg.recent_step,
            cfg.min_points,
        )

    def predict_v1(self, instances: list[Any]) -> list[dict[str, Any]]:
        """One answer per ``{"node", "signal", "cluster"?, "history"?}``."""
        if not isinstance(instances, list) or not instances:
            raise InvalidInputError(
                "instances", 'expected a non-empty list of {"node", "signal", "cluster"?, "history"?}'
            )
        parsed = [self._parse_v1(i, inst) for i, inst in enumerate(instances)]
        out = []
        for i, (cluster, node, signal, history) in enumerate(parsed):
            crisis, source, note, key = self.answer(cluster, node, signal, history, f"instances[{i}]")
            pred: dict[str, Any] = {
                **({"cluster": key[0]} if key[0] else {}),
                "node": node,
                "signal": signal,
                "threshold": self.config.thresholds[signal],
                "crisis": crisis.days is not None,
                "days_to_crisis": crisis.days,
                "forecast_peak": crisis.peak,
                "source": source,
            }
            if crisis.reason:
                pred["reason"] = crisis.reason
            elif note:
                pred["note"] = note
            out.append(pred)
        return out

    def _parse_v1(self, i: int, inst: Any) -> tuple[str | None, str, str, History | None]:
        field = f"instances[{i}]"
        if not isinstance(inst, Mapping):
            raise InvalidInputError(field, 'expected an object {"node", "signal", "cluster"?, "history"?}')
        extra = sorted(set(inst) - {"cluster", "node", "signal", "history"})
        if extra:
            raise InvalidInputError(field, f"unknown key(s) {extra}; expected node, signal, cluster, history")
        if not isinstance(inst.get("node"), str) or not inst.get("node"):
            raise InvalidInputError(f"{field}.node", "expected a non-empty string")
        cluster = optional_cluster(inst, field)
        signal = check_signal(inst.get("signal"), f"{field}.signal")
        history = None
        if inst.get("history") is not None:
            history = parse_history(inst["history"], f"{field}.history")
            check_range(history.values, signal, f"{field}.history.values")
        return cluster, inst["node"], signal, history

    def infer_v2(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """entity (node), signal BYTES [N]; timestamps INT64, values FP32 [N, T] (NaN-padded).

        Returns crisis BOOL [N], days_to_crisis FP32 [N] (+inf: not within the
        horizon; NaN: too few points) and forecast_peak FP32 [N].
        """
        histories = padded_histories(inputs["timestamps"], inputs["values"])
        n = len(histories)
        nodes = text_column(inputs["entity"], "entity", n)
        signals = [check_signal(s, f"signal[{i}]") for i, s in enumerate(text_column(inputs["signal"], "signal", n))]
        for i, h in enumerate(histories):
            if h is not None:
                check_range(h.values, signals[i], f"values[{i}]")
        crisis = np.zeros(n, dtype=bool)
        days = np.empty(n, dtype=np.float32)
        peak = np.empty(n, dtype=np.float32)
        for i in range(n):
            answer, _, _, _ = self.answer(None, nodes[i], signals[i], histories[i], f"entity[{i}]")
            crisis[i] = answer.days is not None
            days[i] = np.nan if answer.reason else (np.inf if answer.days is None else answer.days)
            peak[i] = np.nan if answer.peak is None else answer.peak
        return {"crisis": crisis, "days_to_crisis": days, "forecast_peak": peak}

    def smoke_instances(self) -> list[Any]:
        """The first series with state, without history and with its own recent history."""
        cluster, node, signal = next(k for k, s in self.series.items() if len(s.recent))
        recent = self.series[(cluster, node, signal)].recent
        history = {"timestamps": recent.timestamps.tolist(), "values": recent.values.tolist()}
        series = {**({"cluster": cluster} if cluster else {}), "node": node, "signal": signal}
        return [series, {**series, "history": history}]

    def save(self, folder: Path) -> None:
        """``series.json`` (config, Prophet states) and ``recent.npz`` (recent values)."""
        save_states(folder, "series", LABELS, self.config.model_dump(mode="json"), self.series)

    @classmethod
    def load(cls, folder: Path, manifest: Manifest) -> IoCrisisPredictor:
        """Read what :meth:`save` wrote."""
        config, series = load_states(folder, "series", LABELS, FAMILY.name)
        return cls(IoCrisisConfig.model_validate(config), series)


def check_signal(value: Any, field: str) -> str:
    """One of :data:`SIGNALS`, or a 400 naming the field."""
    if value not in SIGNALS:
        raise InvalidInputError(field, f"unknown signal {value!r}; expected one of {list(SIGNALS)}")
    return str(value)


def check_range(values: np.ndarray, signal: str, field: str) -> None:
    """Values must be non-negative (io_wait: a ratio in [0, 1])."""
    bad = (values < 0) | (values > UPPER[signal])
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        expected = "a ratio in [0, 1]" if signal == "io_wait" else f"bytes/s in [0, {UPPER[signal]:g}]"
        raise InvalidInputError(f"{field}[{j}]", f"{values[j]:g} is not {expected}")


def config_from(settings: Settings) -> IoCrisisConfig:
    """A training run's hyper-parameters."""
    return IoCrisisConfig(
        thresholds={
            "io_wait": settings.io_wait_threshold,
            "net_rx": settings.net_threshold,
            "net_tx": settings.net_threshold,
        }
    )


def positive(prediction: Mapping[str, Any]) -> bool:
    """A predicted crisis raises an alarm."""
    return bool(prediction.get("crisis"))


FAMILY: Family[IoCrisisConfig] = Family(
    name="io-crisis",
    module="io_crisis",
    config=IoCrisisConfig,
    predictor=IoCrisisPredictor,
    signals=SIGNALS,
    config_from=config_from,
    positive=positive,
)
