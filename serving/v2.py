"""V2 (Open Inference Protocol) tensors <-> the NumPy arrays families take and give."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from kserve import InferOutput, InferRequest, InferResponse
from kserve.utils.numpy_codec import from_np_dtype

from metrics_ai.errors import InvalidInputError
from metrics_ai.families.base import TensorSpec
from serving.limits import RequestLimits

#: a family's declared datatype -> the request datatypes accepted for it
_ACCEPTED: dict[str, frozenset[str]] = {
    "FP32": frozenset(
        {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}
    ),
    "INT64": frozenset({"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP64"}),
    "BYTES": frozenset({"BYTES"}),
}


def decode_inputs(
    request: InferRequest, spec: Mapping[str, TensorSpec], limits: RequestLimits | None = None
) -> dict[str, np.ndarray]:
    """Check names, datatypes, ranks and sizes of a request's inputs and decode them.

    Args:
        request: the KServe request (REST or gRPC).
        spec: input name -> the tensor the family takes (:mod:`serving.tensor_specs`).
        limits: rows, points per row and string lengths allowed (None: unchecked).
    """
    given = {tensor.name: tensor for tensor in request.inputs}
    if len(given) != len(request.inputs):
        names = [tensor.name for tensor in request.inputs]
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError("inputs", f"input(s) {twice} given more than once; send each once")
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise InvalidInputError("inputs", f"unknown input(s) {unknown}; expected {sorted(spec)}")
    out: dict[str, np.ndarray] = {}
    for name, (datatype, shape) in spec.items():
        tensor = given.get(name)
        if tensor is None:
            raise InvalidInputError(
                f"inputs.{name}", f"missing; expected a {datatype} tensor of shape {list(shape)} (-1: any length)"
            )
        if tensor.datatype not in _ACCEPTED.get(datatype, frozenset({datatype})):
            raise InvalidInputError(f"inputs.{name}", f"datatype {tensor.datatype} given; expected {datatype}")
        if len(tensor.shape) != len(shape) or any(int(d) < 0 for d in tensor.shape):
            raise InvalidInputError(
                f"inputs.{name}", f"shape {list(tensor.shape)} given; expected rank {len(shape)}, {list(shape)}"
            )
    if limits is not None:
        limits.check_v2_shapes(request)
    for name, (datatype, _) in spec.items():
        tensor = given[name]
        try:
            array = tensor.as_numpy()
        except Exception as exc:  # kserve raises assorted errors for data that does not fit the shape
            raise InvalidInputError(
                f"inputs.{name}", f"data does not match shape {list(tensor.shape)}: {exc}"
            ) from None
        if array.shape != tuple(int(d) for d in tensor.shape):
            raise InvalidInputError(
                f"inputs.{name}", f"data has shape {list(array.shape)}, header says {list(tensor.shape)}"
            )
        if datatype == "BYTES":
            _check_utf8(name, array)
            if limits is not None:
                limits.check_v2_strings(name, array)
        out[name] = array
    return out


def _check_utf8(name: str, array: np.ndarray) -> None:
    """Every element of a BYTES input is UTF-8 text (gRPC carries raw bytes)."""
    for i, value in enumerate(array.reshape(-1)):
        if isinstance(value, bytes):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(f"inputs.{name}[{i}]", "not UTF-8 text") from None


def encode_outputs(request: InferRequest, model: str, version: str, outputs: dict[str, np.ndarray]) -> InferResponse:
    """Named arrays -> an InferResponse that answers ``request`` (REST JSON or binary, or gRPC).

    Over REST the outputs are binary (the tensor extension) when the request asks for it,
    all of them (``binary_data_output``) or each requested one (``binary_data``); a request
    naming outputs gets only those.
    """
    requested = request.request_outputs or None
    unknown = sorted({o.name for o in requested or []} - set(outputs))
    if unknown:
        raise InvalidInputError("outputs", f"unknown output(s) {unknown}; expected some of {sorted(outputs)}")
    tensors = []
    for name in [o.name for o in requested] if requested else list(outputs):
        array = np.asarray(outputs[name])
        if array.dtype.kind in "OUS":
            array = np.asarray([_to_bytes(v) for v in array.reshape(-1)], dtype=object).reshape(array.shape)
        tensor = InferOutput(name=name, shape=list(array.shape), datatype=from_np_dtype(array.dtype))
        tensor.set_data_from_numpy(array, binary_data=bool(request.use_binary_outputs))
        tensors.append(tensor)
    return InferResponse(
        response_id=request.id or "",
        model_name=model,
        model_version=version,
        infer_outputs=tensors,
        from_grpc=request.from_grpc,
        use_binary_outputs=bool(request.use_binary_outputs),
        requested_outputs=requested,
    )


def _to_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
