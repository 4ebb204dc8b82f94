"""Per-request limits that keep one request within the pod's memory and CPU (400 naming the field).

The body size itself is bounded before parsing (:mod:`serving.body_limit`, and gRPC's
receive limit); these checks bound what a parsed body may ask for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np
from kserve import InferRequest

from metrics_ai.errors import InvalidInputError
from metrics_ai.settings import Settings


@dataclass(frozen=True)
class RequestLimits:
    """MAX_INSTANCES, MAX_HISTORY_POINTS and MAX_STRING_LENGTH, checked before a family sees a request."""

    max_instances: int
    max_history_points: int
    max_string_length: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLimits:
        """The limits configured for this process."""
        return cls(settings.max_instances, settings.max_history_points, settings.max_string_length)

    def check_v1(self, instances: Sequence[Any]) -> None:
        """Instances per request, string fields and history points of a V1 ``instances`` list."""
        if len(instances) > self.max_instances:
            raise InvalidInputError(
                "instances", f"{len(instances)} instances; at most {self.max_instances} per request (MAX_INSTANCES)"
            )
        for i, instance in enumerate(instances):
            if type(instance) is not list and isinstance(instance, Mapping):  # a list skips the ABC check
                self._check_fields(instance, f"instances[{i}]")

    def _check_fields(self, instance: Mapping[str, Any], field: str) -> None:
        for key, value in instance.items():
            if isinstance(value, str):
                self._check_string(len(value), f"{field}.{key}")
            elif key == "history" and isinstance(value, Mapping):
                for part in ("timestamps", "values"):
                    points = value.get(part)
                    if isinstance(points, list):
                        self._check_points(len(points), f"{field}.history.{part}")

    def check_v2_shapes(self, request: InferRequest) -> None:
        """Rows per request and points per row of every V2 input, from the declared shapes."""
        for tensor in request.inputs:
            shape = [int(d) for d in tensor.shape]
            field = f"inputs.{tensor.name}"
            if shape and shape[0] > self.max_instances:
                raise InvalidInputError(
                    field, f"{shape[0]} rows; at most {self.max_instances} per request (MAX_INSTANCES)"
                )
            if len(shape) > 1 and prod(shape[1:]) > self.max_history_points:
                self._check_points(prod(shape[1:]), field)

    def check_v2_strings(self, name: str, array: np.ndarray) -> None:
        """Every element of a decoded BYTES input is at most MAX_STRING_LENGTH long."""
        if array.dtype.kind in "OSU" and array.size:
            longest = max((len(v) for v in array.reshape(-1) if isinstance(v, str | bytes)), default=0)
            self._check_string(longest, f"inputs.{name}")

    def _check_string(self, length: int, field: str) -> None:
        if length > self.max_string_length:
            raise InvalidInputError(field, f"{length} characters; at most {self.max_string_length} (MAX_STRING_LENGTH)")

    def _check_points(self, points: int, field: str) -> None:
        if points > self.max_history_points:
            raise InvalidInputError(
                field, f"{points} points; at most {self.max_history_points} per instance (MAX_HISTORY_POINTS)"
            )
