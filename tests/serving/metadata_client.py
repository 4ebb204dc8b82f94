"""A V2 client that knows a model only from its metadata (tritonclient), shared by the metadata tests.

``python -m tests.serving.metadata_client PORT MODEL VERSION`` drives ``MODEL`` over gRPC
in a process of its own: tritonclient.grpc and KServe's generated stubs register the same
``inference`` proto package, and one process cannot import both (protobuf refuses the
duplicate symbols), so the gRPC half never runs inside pytest, which imports KServe.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from metrics_ai.families import FAMILIES
from serving.tensor_specs import input_specs, output_specs

ROWS, POINTS, STEP = 3, 240, 60
#: a signal that resource-forecast and io-crisis both answer for a node they have never seen
SIGNAL = "io_wait"


def text_values(model: str, name: str) -> np.ndarray:
    """One string per row: one unseen cluster of three nodes, unseen entities, a valid signal."""
    if name == "signal":
        assert SIGNAL in FAMILIES[model].signals
        return np.array([SIGNAL.encode()] * ROWS, dtype=object)
    if name == "cluster":
        return np.array([b"metadata-cluster"] * ROWS, dtype=object)
    if name == "mountpoint":
        return np.array([b"/"] * ROWS, dtype=object)
    return np.array([f"metadata-{name}-{i}".encode() for i in range(ROWS)], dtype=object)


def build(model: str, tensor: dict[str, Any]) -> np.ndarray:
    """An array of the tensor's declared datatype and shape, -1 dimensions filled in (rows, then points)."""
    declared = [int(d) for d in tensor["shape"]]
    shape = [d if d >= 0 else (ROWS if i == 0 else POINTS) for i, d in enumerate(declared)]
    datatype = tensor["datatype"]
    if datatype == "BYTES":
        assert len(shape) == 1, tensor
        return text_values(model, tensor["name"])
    if datatype == "INT64":  # unix seconds, one step apart, ending now
        end = int(time.time()) // STEP * STEP
        return np.broadcast_to(end - STEP * np.arange(shape[-1])[::-1], shape).astype(np.int64)
    assert datatype == "FP32", tensor
    rng = np.random.default_rng(7)
    return (0.2 + 0.05 * rng.random(shape)).astype(np.float32)  # a ratio, a percent and bytes/s alike


def assert_outputs_as_declared(declared: list[dict[str, Any]], got: dict[str, tuple[str, list[int]]]) -> None:
    """Exactly the declared outputs, each of its datatype and of its shape (-1: the request's rows, or any)."""
    assert set(got) == {t["name"] for t in declared}
    for tensor in declared:
        datatype, shape = got[tensor["name"]]
        want = [int(d) for d in tensor["shape"]]
        assert datatype == tensor["datatype"], tensor["name"]
        assert len(shape) == len(want) and shape[0] == ROWS, (tensor["name"], shape)
        assert all(w in (-1, s) for w, s in zip(want, shape, strict=True)), (tensor["name"], shape, want)


def check_metadata(metadata: dict[str, Any], model: str, version: str) -> None:
    """Name, platform, current version and the family's declared tensors."""
    assert metadata["name"] == model
    assert metadata["platform"] == "metrics-ai"
    assert metadata["versions"] == [version]
    family = FAMILIES[model]
    for key, spec in (("inputs", input_specs(family)), ("outputs", output_specs(family))):
        served = [(t["name"], t["datatype"], [int(d) for d in t["shape"]]) for t in metadata[key]]
        assert served == [(n, t.datatype, list(t.shape)) for n, t in spec.items()], key
        assert served, f"{model} declares no {key}"


def check_answer(
    declared: list[dict[str, Any]], got: dict[str, tuple[str, list[int]]], as_numpy: Callable[[str], np.ndarray]
) -> None:
    """The outputs as declared, each array of its announced shape, every FP32 row answered.

    Every row has an answer: +inf (never) is one, NaN (too few points) is not.
    """
    assert_outputs_as_declared(declared, got)
    for tensor in declared:
        values = as_numpy(tensor["name"])
        assert values.shape == tuple(got[tensor["name"]][1])
        if tensor["datatype"] == "FP32":
            assert not np.isnan(values).any(), (tensor["name"], values)


def drive_grpc(port: int, model: str, version: str) -> None:
    """Metadata, inputs built from it alone, one inference, outputs checked: all over gRPC."""
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
    metadata = client.get_model_metadata(model, as_json=True)
    check_metadata(metadata, model, version)
    inputs = []
    for tensor in metadata["inputs"]:
        array = build(model, tensor)
        item = grpcclient.InferInput(tensor["name"], list(array.shape), tensor["datatype"])
        item.set_data_from_numpy(array)
        inputs.append(item)
    result = client.infer(model, inputs)
    response = result.get_response()
    assert response.model_version == version
    outputs = {o.name: (o.datatype, [int(d) for d in o.shape]) for o in response.outputs}
    check_answer(metadata["outputs"], outputs, result.as_numpy)
    client.close()


if __name__ == "__main__":
    drive_grpc(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    print(f"{sys.argv[2]}: driven over gRPC from its metadata")
