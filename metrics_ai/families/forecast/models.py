"""resource-forecast's request and response models (the serving codecs build and answer them).

The request is a series request (entity, signal and a history or none per row; see
:class:`~metrics_ai.families.models.SeriesRequest`); the response holds one column per
V1 answer field (the shape docs/api.md documents) and derives the V2 tensors from the
forecasts it was built from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
from pydantic import PrivateAttr

from metrics_ai.errors import InvalidInputError
from metrics_ai.families.forecast.crisis import crisis_check
from metrics_ai.families.forecast.engine import Job, Outcome
from metrics_ai.families.models import DomainResponse, SeriesLayout, SeriesRequest, TensorSpec, Text


def rfc3339(t: float) -> str:
    """Unix seconds -> ``2026-11-16T12:00:00Z``."""
    return datetime.fromtimestamp(float(t), UTC).isoformat().replace("+00:00", "Z")


class ForecastRequest(SeriesRequest):
    """Series by entity and signal, each with its history or none (fetched, else the training state)."""

    layout: ClassVar[SeriesLayout] = SeriesLayout(text=("entity", "signal"), v2_text=("entity", "signal"))

    entity: list[Text]
    signal: list[Text]


class ForecastResponse(DomainResponse):
    """Per series: the forecast (ensemble, components, interval), the deviation check and how it was made."""

    v2_outputs: ClassVar[dict[str, TensorSpec]] = {
        "forecast": TensorSpec("FP32", (-1, -1)),
        "lower": TensorSpec("FP32", (-1, -1)),
        "upper": TensorSpec("FP32", (-1, -1)),
        "forecast_timestamps": TensorSpec("INT64", (-1, -1)),
    }

    entity: list[str]
    signal: list[str]
    timestamps: list[list[str]]
    ensemble: list[Any]
    components: list[dict[str, Any]]
    lower: list[Any]
    upper: list[Any]
    deviation: list[Any]
    crisis: list[Any]
    backtest: list[Any]
    source: list[str]
    model: list[Any]
    step_seconds: list[Any]
    notes: list[list[str]]

    _outcomes: list[Outcome] = PrivateAttr(default_factory=list)

    @classmethod
    def of(cls, jobs: Sequence[Job], outs: Sequence[Outcome], thresholds: Mapping[str, float]) -> ForecastResponse:
        """The response to ``jobs``, forecast as ``outs``."""

        def floats(a: np.ndarray | None) -> list[float] | None:
            return None if a is None else [float(x) for x in a]

        response = cls(
            entity=[j.entity for j in jobs],
            signal=[j.signal for j in jobs],
            timestamps=[[rfc3339(t) for t in o.times] for o in outs],
            ensemble=[floats(o.ensemble) for o in outs],
            components=[{k: floats(v) for k, v in o.components.items()} for o in outs],
            lower=[floats(o.lower) for o in outs],
            upper=[floats(o.upper) for o in outs],
            deviation=[o.deviation for o in outs],
            crisis=[
                crisis_check(j.signal, o.times, o.ensemble, thresholds, rfc3339)
                for j, o in zip(jobs, outs, strict=True)
            ],
            backtest=[o.backtest for o in outs],
            source=[j.source for j in jobs],
            model=[o.model for o in outs],
            step_seconds=[o.step for o in outs],
            notes=[o.notes for o in outs],
        )
        response._outcomes = list(outs)
        return response

    def positives(self) -> np.ndarray:
        """A series deviating from its forecast now raises an alarm."""
        return np.array([bool((d or {}).get("is_anomaly")) for d in self.deviation], dtype=bool)

    def v2_columns(self) -> dict[str, Any]:
        """forecast, lower, upper, forecast_timestamps ``[N, H]``: one horizon for every row.

        Raises:
            InvalidInputError: the rows' steps give different horizons.
        """
        outs = self._outcomes
        widths = {o.ensemble.size for o in outs}
        if len(widths) > 1:
            raise InvalidInputError(
                "timestamps",
                f"rows have different steps, giving horizons {sorted(widths)}; send one step per request",
            )
        return {
            "forecast": np.stack([o.ensemble for o in outs]),
            "lower": np.stack([o.lower for o in outs]),
            "upper": np.stack([o.upper for o in outs]),
            "forecast_timestamps": np.rint(np.stack([o.times for o in outs])),
        }
