"""What every codec shares: the answers it gives, its interface, and the one error rule.

The one place a request model's validation error becomes a 400 is :func:`invalid_input`:
it names the field in the protocol's terms (a V1 ``instances[3].cpu_usage``, a V2 input
``metrics[0][2]``) through the codec's :data:`Locator`, with one wording per error kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

import numpy as np
from kserve import InferRequest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from metrics_ai.errors import InvalidInputError
from metrics_ai.families.models import RowError
from serving.limits import RequestLimits

Loc = tuple[str | int, ...]
Locator = Callable[[Loc, Mapping[str, Any]], str]
"""(pydantic ``loc``, the error's ``ctx``) -> the field in the protocol's terms."""

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: pydantic error type -> the wording every family's 400 uses (``{got}``: the value, cut short;
#: other fields from the error's ``ctx``); any other type keeps pydantic's message
_WORDING: dict[str, str] = {
    "missing": "missing",
    "extra_forbidden": "unknown key",
    "float_type": "expected a finite number, got {got}",
    "float_parsing": "expected a finite number, got {got}",
    "finite_number": "expected a finite number, got {got}",
    "string_type": "expected a non-empty string, got {got}",
    "string_too_short": "expected a non-empty string",
    "too_short": "has {actual_length} values; expected {min_length}",
    "too_long": "has {actual_length} values; expected {max_length}",
    "list_type": "expected a list of numbers, got {got}",
    "dict_type": "expected an object, got {got}",
}


Flags = Sequence[bool] | np.ndarray
"""Per prediction: whether it raises an alarm (a response model's bool array, or a list)."""


class V1Answer(NamedTuple):
    """One answered V1 request."""

    predictions: list[dict[str, Any]]
    flags: Flags
    """Per prediction: whether it raises an alarm."""
    observed: tuple[Any, Any]
    """(request, answer) as the family's drift sampler reads them."""


class V2Answer(NamedTuple):
    """One answered V2 request."""

    outputs: dict[str, np.ndarray]
    observed: tuple[Any, Any]


class Codec(Protocol):
    """A loaded predictor behind the protocols."""

    def v1(self, instances: list[Any]) -> V1Answer:
        """Answer V1 ``instances`` (a non-empty list)."""

    def v2(self, request: InferRequest, limits: RequestLimits | None) -> V2Answer:
        """Answer a V2 request's inputs."""

    def smoke_instances(self) -> list[Any]:
        """The version's smoke request as V1 instances (examples, benchmarks)."""


def object_rows(fields: dict[str, Any]) -> TypeAdapter[list[dict[str, Any]]]:
    """An adapter for V1 instances as objects with exactly ``fields`` (name -> type), no other key."""
    row = TypedDict("Row", fields)  # type: ignore[misc]  # the keys are the layout's, known at load
    row.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return TypeAdapter(list[row])  # type: ignore[arg-type]


def validated(model: type[M], data: Mapping[str, Any], where: Locator) -> M:
    """``model`` built from ``data``; a ValidationError becomes the 400 (:func:`invalid_input`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, where) from None


def adapted(adapter: TypeAdapter[T], data: Any, where: Locator) -> T:
    """``data`` validated by ``adapter``; a ValidationError becomes the 400 (:func:`invalid_input`)."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise invalid_input(exc, where) from None


def invalid_input(error: ValidationError | RowError, where: Locator) -> InvalidInputError:
    """The 400 for a request's first problem, naming the field through ``where``."""
    if isinstance(error, RowError):
        return InvalidInputError(where(error.loc, {}), error.problem)
    first = error.errors(include_url=False)[0]
    ctx: Mapping[str, Any] = first.get("ctx") or {}
    wording = _WORDING.get(first["type"])
    message = wording.format(got=_short(first.get("input")), **ctx) if wording else first["msg"]
    loc = tuple(first["loc"]) or ((ctx["field"],) if "field" in ctx else ())  # a whole-model check names its field
    return InvalidInputError(where(loc, ctx), message)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."
