"""The V2 tensors a family takes and gives: one source for the codec and the model metadata.

A converted family's inputs follow from its request model's :class:`RowLayout` (one BYTES
``[N]`` tensor per text column, then the FP32 ``[N, M]`` number matrix) and its outputs
from its response model's ``v2_outputs``; a phase-1 family declares both on its predictor.
No KServe import here: test clients read the specs without loading KServe's protobufs.
"""

from __future__ import annotations

from typing import Any

from metrics_ai.families.base import TEXT_ROWS, Family, TensorSpec
from metrics_ai.families.models import DomainResponse, RowLayout


def layout_inputs(layout: RowLayout) -> dict[str, TensorSpec]:
    """The V2 inputs of a row layout: its text columns, then its number matrix."""
    return {**{name: TEXT_ROWS for name in layout.text}, layout.matrix: TensorSpec("FP32", (-1, len(layout.columns)))}


def response_outputs(response: type[DomainResponse]) -> dict[str, TensorSpec]:
    """The V2 outputs of a response model."""
    return dict(response.v2_outputs)


def input_specs(family: Family[Any]) -> dict[str, TensorSpec]:
    """The V2 inputs ``family`` takes: its request model's (phase 1: the predictor's own ``v2_inputs``)."""
    if family.request is not None:
        return layout_inputs(family.request.layout)
    return dict(getattr(family.predictor, "v2_inputs"))  # noqa: B009 - phase-1 families only


def output_specs(family: Family[Any]) -> dict[str, TensorSpec]:
    """The V2 outputs ``family`` answers: its response model's (phase 1: the predictor's ``v2_outputs``)."""
    if family.response is not None:
        return response_outputs(family.response)
    return dict(getattr(family.predictor, "v2_outputs"))  # noqa: B009 - phase-1 families only
