"""resource-forecast's wire formats: V1 instances and V2 tensors in, answers out.

The only module of the family that reads request JSON or tensors and builds the answers;
the predictor and the engine see :class:`Instance` and :class:`~metrics_ai.families.forecast.engine.Outcome`.
A typed request model (the serving codecs) replaces :func:`v1_instances` and
:func:`v2_instances` here without touching the rest. Both are generators: each instance is
resolved before the next is parsed, so the first bad field named is the first in the request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from metrics_ai.errors import InvalidInputError
from metrics_ai.families.forecast.crisis import crisis_check
from metrics_ai.families.forecast.engine import Job, Outcome
from metrics_ai.series import History, parse_history

_KEYS = {"entity", "signal", "history"}


@dataclass(frozen=True, slots=True)
class Instance:
    """One parsed instance: what to forecast, and how errors about it name its fields.

    Attributes:
        entity, signal: the series asked for.
        field: the instance's own field (``instances[i]``, ``inputs[i]``).
        history: the history it brings (None: the fetcher's or the training-time one).
        values_field, timestamps_field: how errors name its history's values and timestamps.
    """

    entity: str
    signal: str
    field: str
    history: History | None
    values_field: str
    timestamps_field: str


def rfc3339(t: float) -> str:
    """Unix seconds -> ``2026-11-16T12:00:00Z``."""
    return datetime.fromtimestamp(float(t), UTC).isoformat().replace("+00:00", "Z")


# --- V1 ---------------------------------------------------------------------
def v1_instances(instances: Any) -> Iterator[Instance]:
    """``instances`` of a V1 request, one by one.

    Raises:
        InvalidInputError: naming the instance and field that is malformed.
    """
    if not isinstance(instances, list) or not instances:
        raise InvalidInputError("instances", "expected a non-empty list of {entity, signal, history?}")
    for i, raw in enumerate(instances):
        field = f"instances[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidInputError(field, 'expected an object {"entity", "signal", "history"?}')
        extra = sorted(set(raw) - _KEYS)
        if extra:
            raise InvalidInputError(field, f"unexpected key(s) {extra}; expected {sorted(_KEYS)}")
        for key in ("entity", "signal"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise InvalidInputError(f"{field}.{key}", "expected a non-empty string")
        history = None
        if raw.get("history") is not None:
            history = parse_history(raw["history"], f"{field}.history", min_points=1)
        yield Instance(
            raw["entity"], raw["signal"], field, history, f"{field}.history.values", f"{field}.history.timestamps"
        )


def v1_answer(job: Job, out: Outcome, thresholds: Mapping[str, float]) -> dict[str, Any]:
    """One V1 prediction (the shape docs/api.md documents)."""

    def floats(a: np.ndarray | None) -> list[float] | None:
        return None if a is None else [float(x) for x in a]

    return {
        "entity": job.entity,
        "signal": job.signal,
        "timestamps": [rfc3339(t) for t in out.times],
        "ensemble": floats(out.ensemble),
        "components": {k: floats(v) for k, v in out.components.items()},
        "lower": floats(out.lower),
        "upper": floats(out.upper),
        "deviation": out.deviation,
        "crisis": crisis_check(job.signal, out.times, out.ensemble, thresholds, rfc3339),
        "backtest": out.backtest,
        "source": job.source,
        "model": out.model,
        "step_seconds": out.step,
        "notes": out.notes,
    }


# --- V2 ---------------------------------------------------------------------
def v2_instances(inputs: dict[str, np.ndarray]) -> Iterator[Instance]:
    """Rows of entity, signal [N]; timestamps INT64, values FP32 [N, T] (``T = 0``: no history).

    Raises:
        InvalidInputError: naming the tensor (and row) that is malformed.
    """
    entities = _strings(inputs["entity"], "entity")
    signals = _strings(inputs["signal"], "signal")
    ts, vals = np.asarray(inputs["timestamps"]), np.asarray(inputs["values"])
    n = len(entities)
    if n == 0 or len(signals) != n or ts.shape[0] != n or vals.shape != ts.shape:
        raise InvalidInputError(
            "inputs",
            f"entity {[n]}, signal {[len(signals)]}, timestamps {list(ts.shape)} and values "
            f"{list(vals.shape)} must be [N], [N], [N, T], [N, T] with N >= 1",
        )
    for i in range(n):
        history = _history_row(ts[i], vals[i], i) if ts.shape[1] > 0 else None
        yield Instance(entities[i], signals[i], f"inputs[{i}]", history, f"values[{i}]", f"timestamps[{i}]")


def v2_answer(outs: list[Outcome]) -> dict[str, np.ndarray]:
    """forecast, lower, upper, forecast_timestamps ``[N, H]``: one horizon for every row.

    Raises:
        InvalidInputError: the rows' steps give different horizons.
    """
    widths = {o.ensemble.size for o in outs}
    if len(widths) > 1:
        raise InvalidInputError(
            "timestamps",
            f"rows have different steps, giving horizons {sorted(widths)}; send one step per request",
        )
    return {
        "forecast": np.stack([o.ensemble for o in outs]).astype(np.float32),
        "lower": np.stack([o.lower for o in outs]).astype(np.float32),
        "upper": np.stack([o.upper for o in outs]).astype(np.float32),
        "forecast_timestamps": np.rint(np.stack([o.times for o in outs])).astype(np.int64),
    }


def _strings(array: np.ndarray, field: str) -> list[str]:
    out = []
    for i, v in enumerate(np.asarray(array, dtype=object).reshape(-1)):
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(f"{field}[{i}]", "not UTF-8") from None
        if not isinstance(v, str) or not v:
            raise InvalidInputError(f"{field}[{i}]", "expected a non-empty string")
        out.append(v)
    return out


def _history_row(ts: np.ndarray, vals: np.ndarray, i: int) -> History:
    t = ts.astype(np.float64)
    y = vals.astype(np.float64)
    bad = ~np.isfinite(y)
    if bad.any():
        raise InvalidInputError(
            f"values[{i}][{int(np.flatnonzero(bad)[0])}]",
            "NaN or infinity where a number is required",
        )
    steps = np.diff(t)
    if steps.size and not (steps > 0).all():
        j = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise InvalidInputError(f"timestamps[{i}][{j}]", "timestamps must increase")
    return History(t, y)
