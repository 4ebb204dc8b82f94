"""Typed, columnar request and response models of the families' domain calls.

A family that exposes ``predict(request) -> response`` declares both as pydantic models
(``extra="forbid"``): columns, never one object per number. A number column is one
validated NumPy array (``FloatRows``: float64 ``[N, M]``, every value finite), a text
column one ``list[str]`` (non-empty strings). The serving codecs (``serving/codec_v1.py``,
``serving/codec_v2.py``) build requests from V1 instances or V2 tensors and turn responses
back into answers; the family never sees a protocol payload.

:class:`RowLayout` says how a row request's rows look (its text columns, its number matrix
and that matrix's column names), :class:`SeriesLayout` how a series request's do (its text
columns and one history per row); :class:`DomainResponse` says what counts as an alarm
(:meth:`~DomainResponse.positives`) and which columns the V2 protocol carries.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, NamedTuple, Self, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, InstanceOf, PlainValidator, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from metrics_ai.errors import RowError as RowError  # re-exported: the families raise it from here
from metrics_ai.errors import RowNotFound as RowNotFound
from metrics_ai.series import History


class TensorSpec(NamedTuple):
    """One V2 tensor a family takes or gives, as the model metadata serves it.

    Attributes:
        datatype: the Open Inference Protocol datatype (``FP32``, ``INT64``, ``BYTES`` ...).
        shape: its dimensions, ``-1`` where the length varies (rows, history points).
    """

    datatype: str
    shape: tuple[int, ...]

    @property
    def rank(self) -> int:
        """Number of dimensions."""
        return len(self.shape)


_SMALL = 64
"""Up to this many values, :func:`float_rows` checks finiteness in Python (NumPy's call costs more)."""


def float_rows(arr: np.ndarray) -> np.ndarray | None:
    """``arr`` as float64 if it is what :data:`FloatRows` accepts (numbers, ``[N, M]``, N >= 1,
    every value finite), else None: the check without an error (a codec's fast path; the
    validator below explains a None)."""
    if arr.dtype.kind not in "iuf" or arr.ndim != 2 or arr.shape[0] == 0:
        return None
    rows = arr.astype(np.float64, copy=False)
    if rows.size <= _SMALL:  # the same test on Python floats: 0.3 us instead of NumPy's 1.3 (one row)
        return rows if all(map(math.isfinite, rows.ravel().tolist())) else None
    return rows if np.isfinite(rows).all() else None


def _float_rows(value: Any) -> np.ndarray:
    """A float64 ``[N, M]`` array (N >= 1) with finite values, from an array or nested lists."""
    try:
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        raise PydanticCustomError("float_rows", "expected rows of numbers of one length") from None
    rows = float_rows(arr)
    if rows is not None:
        return rows
    if arr.dtype.kind not in "iuf":
        raise PydanticCustomError("float_rows", "expected numbers, got {dtype}", {"dtype": str(arr.dtype)})
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise PydanticCustomError(
            "float_rows", "expected shape [N, M] with N >= 1, got {shape}", {"shape": list(arr.shape)}
        )
    i, j = np.argwhere(~np.isfinite(arr.astype(np.float64, copy=False)))[0]  # the one check left
    raise PydanticCustomError(
        "finite_rows", "NaN or infinity where a number is required", {"row": int(i), "column": int(j)}
    )


FloatRows = Annotated[np.ndarray, PlainValidator(_float_rows)]
"""float64 ``[N, M]``, N >= 1, every value finite."""
FloatColumn = InstanceOf[np.ndarray]
"""A response's float ``[N]`` column (its own NumPy output: checked for type, cast on encoding)."""
IntColumn = InstanceOf[np.ndarray]
"""A response's integer ``[N]`` column."""
BoolColumn = InstanceOf[np.ndarray]
"""A response's bool ``[N]`` column."""
Text = Annotated[str, StringConstraints(min_length=1)]
"""A non-empty string."""


class RowLayout(NamedTuple):
    """How a row request's columns look, whatever the protocol.

    Attributes:
        text: the text columns (request fields of ``list[str]``; V1 object keys; V2 BYTES ``[N]``).
        matrix: the number matrix's field (V2: the FP32 ``[N, M]`` input of that name).
        columns: the matrix's column names, in order (V1 object keys).
        lists: whether a V1 row may also be a list of the columns' numbers, in order.
    """

    text: tuple[str, ...]
    matrix: str
    columns: tuple[str, ...]
    lists: bool = False


class DomainModel(BaseModel):
    """Base of requests and responses: immutable, unknown fields refused, arrays allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class SeriesLayout(NamedTuple):
    """How a series request's columns look: text columns and one history per row.

    Attributes:
        text: the text columns (request fields of ``list[str]``; V1 object keys).
        v2_text: their V2 BYTES ``[N]`` inputs, in the same order (io-crisis' ``node`` is ``entity``).
        optional: text columns a V1 object may leave out (``list[str | None]``; not in V2).
        history: the history column (V1: an optional ``{"timestamps", "values"}`` object; V2: the
            padded ``timestamps``/``values`` tensors of :mod:`metrics_ai.v2rows`).
    """

    text: tuple[str, ...]
    v2_text: tuple[str, ...]
    optional: tuple[str, ...] = ()
    history: str = "history"


class DomainRequest(DomainModel):
    """Base of requests: N rows whose shape :attr:`layout` gives."""

    layout: ClassVar[RowLayout | SeriesLayout]
    """The default shape (class level: what the V2 metadata declares)."""

    def __len__(self) -> int:
        """Rows in the request."""
        raise NotImplementedError


HistoryRow = InstanceOf[History] | None
"""One row's history (None: the request brings none; the family fetches or uses its state)."""


class SeriesRequest(DomainRequest):
    """N series: text columns and a history column (per :attr:`layout`), one entry per row each.

    Subclasses declare their text fields (``list[Text]``, optional ones ``list[str | None]``)
    and :attr:`layout`; the history field is ``history: list[HistoryRow]``.
    """

    layout: ClassVar[SeriesLayout]
    history: Annotated[list[HistoryRow], Field(min_length=1)]

    @model_validator(mode="after")
    def _agree(self) -> Self:
        """Each text column has one entry per history."""
        n = len(self.history)
        for name in (*self.layout.text, *self.layout.optional):
            got = len(getattr(self, name))
            if got != n:
                raise PydanticCustomError(
                    "rows", "expected {n} entries (one per row), got {got}", {"field": name, "n": n, "got": got}
                )
        return self

    def __len__(self) -> int:
        """Rows in the request."""
        return len(self.history)


class RowsRequest(DomainRequest):
    """N rows: text columns (per :attr:`layout`) and one number matrix, checked against each other.

    Subclasses declare their text fields (``list[Text]``), their matrix field (``FloatRows``)
    and :attr:`layout`; ``columns`` names the matrix's columns (a version's own metric list).
    """

    layout: ClassVar[RowLayout]
    """The default shape (class level: what the V2 metadata declares)."""

    columns: tuple[str, ...]

    @model_validator(mode="after")
    def _agree(self) -> Self:
        """The matrix has one column per name; each text column has one entry per row."""
        layout = self.layout
        matrix = getattr(self, layout.matrix)
        if matrix.shape[1] != len(self.columns):
            raise PydanticCustomError(
                "width",
                "expected shape [N, {m}], got {shape}",
                {"field": layout.matrix, "m": len(self.columns), "shape": list(matrix.shape)},
            )
        for name in layout.text:
            if len(getattr(self, name)) != matrix.shape[0]:
                raise PydanticCustomError(
                    "rows",
                    "expected {n} entries (one per row), got {got}",
                    {"field": name, "n": matrix.shape[0], "got": len(getattr(self, name))},
                )
        return self

    def __len__(self) -> int:
        """Rows in the request."""
        return int(getattr(self, self.layout.matrix).shape[0])

    @classmethod
    def checks_only_the_matrix(cls) -> bool:
        """Whether validating this request is exactly :func:`float_rows` on its matrix and :meth:`_agree`.

        True when the model has no text columns and no field or validator beyond ``columns``, the
        ``FloatRows`` matrix and this class's check: then a codec whose rows passed
        :func:`float_rows` with one column per name may build it with ``model_construct``.
        """
        matrix = cls.model_fields.get(cls.layout.matrix)
        decorators = cls.__pydantic_decorators__
        agree = RowsRequest.__pydantic_decorators__.model_validators["_agree"].func
        return (
            not cls.layout.text
            and set(cls.model_fields) == {"columns", cls.layout.matrix}
            and matrix is not None
            and matrix.metadata == list(get_args(FloatRows)[1:])
            and {n: d.func for n, d in decorators.model_validators.items()} == {"_agree": agree}
            and not (decorators.field_validators or decorators.validators or decorators.root_validators)
        )


class DomainResponse(DomainModel):
    """N answers as columns, in the order V1 answers list them.

    Subclasses declare their columns (NumPy ``[N]`` arrays or lists) and :attr:`v2_outputs`;
    every column has one entry per row.
    """

    v2_outputs: ClassVar[dict[str, TensorSpec]]
    """The columns the V2 protocol answers (name -> datatype and shape)."""

    v1_optional: ClassVar[frozenset[str]] = frozenset()
    """Columns a V1 answer leaves out where their entry is None (disk-eta's ``reason``)."""

    def positives(self) -> np.ndarray:
        """bool ``[N]``: which rows raise an alarm (the predictor's positives metric, shadow agreement)."""
        raise NotImplementedError

    def v2_columns(self) -> dict[str, Any]:
        """The :attr:`v2_outputs` columns (the fields of those names, unless a family derives them)."""
        return {name: getattr(self, name) for name in self.v2_outputs}

    def __len__(self) -> int:
        """Rows answered."""
        return len(next(iter(self.__dict__.values())))
