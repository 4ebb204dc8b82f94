"""The V2 tensors a family takes and gives: one source for the codecs and the model metadata.

A family's inputs follow from its request model's layout (a :class:`RowLayout`: one BYTES
``[N]`` tensor per text column, then the FP32 ``[N, M]`` number matrix; a
:class:`SeriesLayout`: one BYTES ``[N]`` tensor per text column, then the padded history)
and its outputs from its response model's ``v2_outputs``. No KServe import here: test
clients read the specs without loading KServe's protobufs.
"""

from __future__ import annotations

from typing import Any

from metrics_ai.families.base import HISTORY_INPUTS, TEXT_ROWS, Family, TensorSpec
from metrics_ai.families.models import RowLayout, SeriesLayout


def layout_inputs(layout: RowLayout | SeriesLayout) -> dict[str, TensorSpec]:
    """The V2 inputs of a layout: its text columns, then its number matrix or its history."""
    if isinstance(layout, SeriesLayout):
        return series_inputs(layout)
    return {**{name: TEXT_ROWS for name in layout.text}, layout.matrix: TensorSpec("FP32", (-1, len(layout.columns)))}


def series_inputs(layout: SeriesLayout) -> dict[str, TensorSpec]:
    """The V2 inputs of a series layout: its text columns' tensors, then ``timestamps`` and ``values``."""
    return {**{name: TEXT_ROWS for name in layout.v2_text}, **HISTORY_INPUTS}


def input_specs(family: Family[Any]) -> dict[str, TensorSpec]:
    """The V2 inputs ``family`` takes (its request model's)."""
    return layout_inputs(family.request.layout)


def output_specs(family: Family[Any]) -> dict[str, TensorSpec]:
    """The V2 outputs ``family`` answers (its response model's)."""
    return dict(family.response.v2_outputs)
