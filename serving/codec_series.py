"""V1 objects and V2 tensors <-> a series request (text columns and one history per row).

Convention (resource-forecast, disk-eta, io-crisis; docs/api.md):

* V1: an instance is an object whose keys are the request's text columns (non-empty
  strings), its optional columns (``cluster``: a string, ``""`` naming a standalone node)
  and ``history`` (absent or null: none), nothing else; a history is
  ``{"timestamps": [...], "values": [...]}`` (unix seconds or RFC 3339, increasing; finite
  values), read by :func:`metrics_ai.series.parse_history`;
* V2: one BYTES ``[N]`` input per text column and the padded ``timestamps`` INT64 /
  ``values`` FP32 ``[N, T]`` tensors of :mod:`metrics_ai.v2rows` (NaN values are padding; a
  row of NaN, or ``T = 0``, brings no history);
* an error names the instance and key (``instances[1].history.values[3]``) or the input,
  row and point (``values[1][3]``, ``signal[0]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NotRequired

from kserve import InferRequest
from pydantic import Strict

from metrics_ai.families.models import SeriesLayout, SeriesRequest
from metrics_ai.series import parse_history
from metrics_ai.v2rows import padded_histories
from serving.codec_base import Loc, Locator, adapted, object_rows, validated
from serving.codec_v1 import Word
from serving.codec_v2 import texts
from serving.limits import RequestLimits
from serving.tensor_specs import series_inputs
from serving.v2 import decode_inputs

Label = Annotated[str, Strict()]
"""A JSON string (may be empty: ``cluster: ""`` names a standalone node)."""


def _rest(parts: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


class V1SeriesCodec:
    """A series request model's V1 form."""

    def __init__(self, model: type[SeriesRequest], layout: SeriesLayout) -> None:
        self.model = model
        self.layout = layout
        fields: dict[str, Any] = {name: Word for name in layout.text}
        fields |= {name: NotRequired[Label] for name in layout.optional}
        fields[layout.history] = NotRequired[Any]
        self._objects = object_rows(fields)

    def request(self, instances: list[Any]) -> SeriesRequest:
        """The request model for ``instances``, or a 400 naming the instance and key."""
        layout = self.layout
        rows = adapted(self._objects, instances, self.at)
        data: dict[str, Any] = {t: [row[t] for row in rows] for t in layout.text}
        data |= {o: [row.get(o) for row in rows] for o in layout.optional}
        data[layout.history] = [
            None if row.get(layout.history) is None else parse_history(row[layout.history], f"instances[{i}].history")
            for i, row in enumerate(rows)
        ]
        return validated(self.model, data, self.at)

    def where(self, instances: list[Any]) -> Locator:
        """How a problem in the request built from ``instances`` is named."""
        return self.at

    def at(self, loc: Loc, ctx: Mapping[str, Any]) -> str:
        """``instances[i]``, ``instances[i].key`` or ``instances[i].history.values[j]``."""
        if loc and isinstance(loc[0], str):  # a request model field: (field[, row[, ...]])
            if len(loc) > 1 and isinstance(loc[1], int):
                return f"instances[{loc[1]}].{loc[0]}{_rest(loc[2:])}"
            return "instances"
        return (f"instances[{loc[0]}]" if loc else "instances") + _rest(loc[1:])

    def instances(self, request: SeriesRequest) -> list[Any]:
        """``request`` as V1 instances (optional columns and histories only where present)."""
        layout = self.layout
        out: list[dict[str, Any]] = []
        for i, history in enumerate(request.history):
            inst: dict[str, Any] = {o: getattr(request, o)[i] for o in layout.optional if getattr(request, o)[i]}
            inst |= {t: getattr(request, t)[i] for t in layout.text}
            if history is not None:
                inst[layout.history] = {"timestamps": history.timestamps.tolist(), "values": history.values.tolist()}
            out.append(inst)
        return out


class V2SeriesCodec:
    """A series request model's V2 form."""

    def __init__(self, model: type[SeriesRequest], layout: SeriesLayout) -> None:
        self.model = model
        self.layout = layout
        self.inputs = series_inputs(layout)
        self._names = dict(zip(layout.text, layout.v2_text, strict=True))

    def request(self, request: InferRequest, limits: RequestLimits | None) -> SeriesRequest:
        """The request model for a V2 request, or a 400 naming the input."""
        layout = self.layout
        tensors = decode_inputs(request, self.inputs, limits)
        histories = padded_histories(tensors["timestamps"], tensors["values"])
        data: dict[str, Any] = {t: texts(tensors[v]) for t, v in self._names.items()}
        data |= {o: [None] * len(histories) for o in layout.optional}
        data[layout.history] = histories
        return validated(self.model, data, self.at)

    def at(self, loc: Loc, ctx: Mapping[str, Any]) -> str:
        """``signal[i]``, ``values[i][j]``: the input (and row, point) a request model field came from."""
        if not loc or not isinstance(loc[0], str):
            return "inputs"
        field, rows = loc[0], loc[1:]
        if field == self.layout.history:  # (history, row, "values"|"timestamps"[, point])
            if len(rows) >= 2 and isinstance(rows[1], str):
                return f"{rows[1]}[{rows[0]}]" + _rest(rows[2:])
            return "values" + _rest(rows[:1])
        if field in self._names:
            return self._names[field] + _rest(rows)
        return f"{self.layout.v2_text[0]}{_rest(rows[:1])}.{field}"  # a V1-only column: under the row's first
