"""V2 (Open Inference Protocol) tensors <-> a family's request and response models.

Convention (every family, with :mod:`metrics_ai.v2rows` for the history tensors; docs/api.md):

* a request's V2 inputs are named after its model's fields: one BYTES ``[N]`` tensor per
  text column (UTF-8, non-empty) and one FP32 ``[N, M]`` tensor for the number matrix
  (any integer or float datatype is accepted and read as float64);
* every number of the matrix is finite: NaN is never padding in a row model; the
  history tensors (``timestamps`` INT64 / ``values`` FP32 ``[N, T]``) are the one
  padded form, NaN ``values`` marking absent points (:mod:`metrics_ai.v2rows`);
* the outputs are the response model's ``v2_outputs`` columns, cast to their datatype;
* an error names the input, with its row and column where there is one (``metrics[0][2]``,
  ``cluster[1]``).

The tensor names, datatypes and shapes come from the models (:mod:`serving.tensor_specs`);
the V2 metadata serves the same specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from kserve import InferRequest

from metrics_ai.families.models import DomainResponse, RowLayout, RowsRequest
from serving.codec_base import Loc, validated
from serving.limits import RequestLimits
from serving.tensor_specs import layout_inputs
from serving.v2 import decode_inputs

#: a declared datatype -> the NumPy dtype its output is cast to
_DTYPES: dict[str, type[np.generic]] = {
    "FP32": np.float32,
    "FP64": np.float64,
    "INT32": np.int32,
    "INT64": np.int64,
    "BOOL": np.bool_,
    "BYTES": np.object_,
}


class V2Codec:
    """One request model's V2 form, built once per loaded version (its column names)."""

    def __init__(self, model: type[RowsRequest], layout: RowLayout) -> None:
        self.model = model
        self.layout = layout
        self.inputs = layout_inputs(layout)

    def request(self, request: InferRequest, limits: RequestLimits | None) -> RowsRequest:
        """The request model for a V2 request, or a 400 naming the input."""
        tensors = decode_inputs(request, self.inputs, limits)
        data: dict[str, Any] = {"columns": self.layout.columns, self.layout.matrix: tensors[self.layout.matrix]}
        data |= {name: texts(tensors[name]) for name in self.layout.text}
        return validated(self.model, data, at)

    @staticmethod
    def at(loc: Loc, ctx: Mapping[str, Any]) -> str:
        """How a problem in a V2 request is named (:func:`at`)."""
        return at(loc, ctx)


def outputs(response: DomainResponse) -> dict[str, np.ndarray]:
    """The response's V2 columns, cast to their declared datatypes."""
    columns = response.v2_columns()
    return {
        name: np.asarray(columns[name]).astype(_DTYPES[spec.datatype], copy=False)
        for name, spec in response.v2_outputs.items()
    }


def at(loc: Loc, ctx: Mapping[str, Any]) -> str:
    """``name``, ``name[i]`` or ``name[i][j]`` for a request model field (the input of that name)."""
    if not loc or not isinstance(loc[0], str) or loc[0] == "columns":
        return "inputs"
    if "row" in ctx:
        return f"{loc[0]}[{ctx['row']}][{ctx['column']}]"
    return str(loc[0]) + "".join(f"[{p}]" for p in loc[1:])


def texts(array: np.ndarray) -> list[str]:
    """A BYTES ``[N]`` tensor as strings (UTF-8 already checked by :func:`decode_inputs`)."""
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in array.tolist()]
