"""V1 (``{"instances": [...]}``) <-> a family's request and response models.

Convention (every converted family; docs/api.md):

* an instance is an object whose keys are the request's text columns and its matrix's
  column names, nothing else (a family whose :class:`RowLayout` says ``lists`` also takes
  a list of the column numbers in order; the first instance decides the form);
* strings are non-empty; numbers are JSON numbers (``true``/``false`` are not), finite;
  nothing is padded in V1: a missing key is an error;
* an error names the instance and key (``instances[3].cpu_usage``) or position
  (``instances[0][2]``).

Rows of plain numbers go through one ``np.asarray`` (the single-row hot path and 10,000
rows alike); anything else is validated by a pydantic TypeAdapter over the plain lists
or objects, whose first error is the 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import AllowInfNan, Field, Strict, TypeAdapter

from metrics_ai.families.models import DomainResponse, RowLayout, RowsRequest, float_rows
from serving.codec_base import Loc, Locator, adapted, object_rows, validated

Number = Annotated[float, Strict(), AllowInfNan(False)]
"""A JSON number (not a boolean), finite."""
Word = Annotated[str, Strict(), Field(min_length=1)]
"""A non-empty JSON string."""


class V1Codec:
    """One request model's V1 form, built once per loaded version (its column names)."""

    def __init__(self, model: type[RowsRequest], layout: RowLayout) -> None:
        self.model = model
        self.layout = layout
        fields: dict[str, Any] = {name: Word for name in layout.text}
        fields |= {name: Number for name in layout.columns}
        self._objects = object_rows(fields)
        width = len(layout.columns)
        self._lists: TypeAdapter[list[list[float]]] = TypeAdapter(
            list[Annotated[list[Number], Field(min_length=width, max_length=width)]]
        )
        self._construct = layout.lists and not layout.text and model.checks_only_the_matrix()
        """Whether plain rows that pass :func:`float_rows` may skip pydantic (see :meth:`request`)."""

    def request(self, instances: list[Any]) -> RowsRequest:
        """The request model for ``instances`` (a non-empty list), or a 400 naming the field."""
        layout = self.layout
        if self._as_lists(instances):
            matrix = self._plain_rows(instances)
            rows = float_rows(matrix) if matrix is not None and self._construct else None
            if rows is not None:
                # Validated already: ``rows`` passed FloatRows' own check (float_rows) and has one
                # column per name (_plain_rows took rows of len(columns) only), and the model checks
                # nothing else (checks_only_the_matrix), so it is built without validating again:
                # the single-row hot path, 2-3 us less. Anything else is validated below.
                checked: dict[str, Any] = {layout.matrix: rows, "columns": layout.columns}
                return self.model.model_construct(**checked)
            data: dict[str, Any] = {layout.matrix: matrix if matrix is not None else self._list_rows(instances)}
            where = self._at_list
        else:
            objects = adapted(self._objects, instances, self._at_object)
            data = {layout.matrix: [[row[c] for c in layout.columns] for row in objects]}
            data |= {t: [row[t] for row in objects] for t in layout.text}
            where = self._at_object
        data["columns"] = layout.columns
        return validated(self.model, data, where)

    def where(self, instances: list[Any]) -> Locator:
        """How a problem in the request built from ``instances`` is named (lists or objects)."""
        return self._at_list if self._as_lists(instances) else self._at_object

    def _as_lists(self, instances: list[Any]) -> bool:
        """Whether ``instances`` are read as lists (the layout takes them and the first row is no object)."""
        first = instances[0]
        return self.layout.lists and (type(first) is list or not isinstance(first, Mapping))  # list: no ABC check

    def _plain_rows(self, instances: list[Any]) -> np.ndarray | None:
        """The fast path: lists of the right length holding only numbers (None: explain slowly)."""
        width = len(self.layout.columns)
        if not all(type(r) is list and len(r) == width for r in instances):
            return None
        try:
            arr = np.asarray(instances)
        except (ValueError, TypeError, OverflowError):
            return None
        if arr.dtype.kind not in "iuf" or any(type(v) is bool for row in instances for v in row):
            return None  # NumPy reads true/false as 1/0
        return arr

    def _list_rows(self, instances: list[Any]) -> list[list[float]]:
        return adapted(self._lists, instances, self._at_list)

    def _at_list(self, loc: Loc, ctx: Mapping[str, Any]) -> str:
        return self._at(loc, ctx, objects=False)

    def _at_object(self, loc: Loc, ctx: Mapping[str, Any]) -> str:
        return self._at(loc, ctx, objects=True)

    def _at(self, loc: Loc, ctx: Mapping[str, Any], *, objects: bool) -> str:
        """``instances[i]``, ``instances[i][j]`` or ``instances[i].key`` for a row or a model field."""
        if "row" in ctx:  # a cell of the number matrix
            i, j = ctx["row"], ctx["column"]
            return f"instances[{i}].{self.layout.columns[j]}" if objects else f"instances[{i}][{j}]"
        if loc and isinstance(loc[0], str):  # a request model field: (field[, row])
            if len(loc) > 1 and isinstance(loc[1], int):
                return f"instances[{loc[1]}].{loc[0]}"
            return "instances"
        head = f"instances[{loc[0]}]" if loc else "instances"
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
        return head + rest

    def instances(self, request: RowsRequest) -> list[Any]:
        """``request`` as V1 instances (lists where the layout takes them, else objects)."""
        matrix = getattr(request, self.layout.matrix).tolist()
        if self.layout.lists:
            return list(matrix)
        texts = [getattr(request, t) for t in self.layout.text]
        return [
            {
                **{t: col[i] for t, col in zip(self.layout.text, texts, strict=True)},
                **dict(zip(self.layout.columns, row, strict=True)),
            }
            for i, row in enumerate(matrix)
        ]


def answers(response: DomainResponse) -> list[dict[str, Any]]:
    """One V1 prediction per row: the response's columns by name, in declaration order.

    A column the response lists in ``v1_optional`` is left out of a row where it is None.
    """
    fields = response.__dict__
    columns = [value.tolist() if isinstance(value, np.ndarray) else value for value in fields.values()]
    rows = [dict(zip(fields, row, strict=True)) for row in zip(*columns, strict=True)]
    optional = response.v1_optional
    if optional:
        for row in rows:
            for name in optional:
                if row[name] is None:
                    del row[name]
    return rows
