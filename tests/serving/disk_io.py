"""Helpers of the disk-eta / io-crisis serving tests: histories, V1 calls, V2 tensors over REST and gRPC."""

from __future__ import annotations

import math
from typing import Any

import grpc
import numpy as np
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from metrics_ai.series import History
from tests.conftest import FIXED_END

END = int(FIXED_END.timestamp())
N = 577  # two days at 5 min
DISK_KEYS = {"node", "mountpoint", "current_usage", "threshold", "eta_days", "severity", "source", "model_version"}
CRISIS_KEYS = {"node", "signal", "threshold", "crisis", "days_to_crisis", "forecast_peak", "source", "model_version"}
GRADES = [(3.0, "CRITICAL"), (7.0, "WARNING"), (30.0, "SOON")]


def ramp(start: float, stop: float, n: int = N, step: int = 300) -> dict[str, list[float]]:
    """A straight-line history of ``n`` points ending at FIXED_END."""
    return {"timestamps": [END - (n - 1 - i) * step for i in range(n)], "values": np.linspace(start, stop, n).tolist()}


def as_json(history: History) -> dict[str, list[float]]:
    """A stored History as a request's history object."""
    return {"timestamps": history.timestamps.tolist(), "values": history.values.tolist()}


def v1(server, model: str, *instances: Any) -> list[dict[str, Any]]:
    """The V1 predictions for ``instances`` (asserts a 200 with one prediction each)."""
    r = server.client.post(f"/v1/models/{model}:predict", json={"instances": list(instances)})
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert len(predictions) == len(instances)
    return predictions


def v1_error(server, model: str, *instances: Any) -> tuple[int, str]:
    """Status and error message of a V1 call expected to fail."""
    r = server.client.post(f"/v1/models/{model}:predict", json={"instances": list(instances)})
    return r.status_code, r.json().get("error", "")


def grade(eta: float | None) -> str:
    """The contract's severity for an ETA in days (None: never)."""
    return next((name for limit, name in GRADES if eta is not None and eta < limit), "OK")


def v2_rows(histories: list[dict[str, list[float]] | None]) -> tuple[list[float], list[float | None], int]:
    """NaN-padded (null over JSON) [N, T] timestamps and values; None = no history."""
    width = max((len(h["values"]) for h in histories if h), default=0)
    ts: list[float] = []
    vs: list[float | None] = []
    for h in histories:
        got = len(h["values"]) if h else 0
        ts += (list(h["timestamps"]) if h else []) + [0] * (width - got)
        vs += (list(h["values"]) if h else []) + [None] * (width - got)
    return ts, vs, width


def rest_v2(server, model: str, tensors: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """V2 over REST JSON: output name -> output (asserts a 200)."""
    r = server.client.post(f"/v2/models/{model}/infer", json={"inputs": tensors})
    assert r.status_code == 200, r.text
    return {o["name"]: o for o in r.json()["outputs"]}


def grpc_v2(server, model: str, tensors: list[dict[str, Any]]) -> tuple[str, dict[str, tuple[str, list[int], list]]]:
    """V2 over gRPC: (model_version, output name -> (datatype, shape, values))."""
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        reply = pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(grpc_request(model, tensors), timeout=20)
    out = {}
    for o in reply.outputs:
        contents = {
            "FP32": o.contents.fp32_contents,
            "BOOL": o.contents.bool_contents,
            "BYTES": o.contents.bytes_contents,
        }[o.datatype]
        out[o.name] = (o.datatype, list(o.shape), list(contents))
    return reply.model_version, out


def grpc_request(model: str, tensors: list[dict[str, Any]]) -> pb.ModelInferRequest:
    """REST-style tensors (None = NaN) as a gRPC ModelInferRequest."""
    inputs = []
    for t in tensors:
        tensor = pb.ModelInferRequest.InferInputTensor(name=t["name"], datatype=t["datatype"], shape=t["shape"])
        if t["datatype"] == "BYTES":
            tensor.contents.bytes_contents.extend(s.encode() for s in t["data"])
        elif t["datatype"] == "INT64":
            tensor.contents.int64_contents.extend(t["data"])
        else:
            tensor.contents.fp32_contents.extend(math.nan if v is None else v for v in t["data"])
        inputs.append(tensor)
    return pb.ModelInferRequest(model_name=model, inputs=inputs)


def tensors(names: tuple[str, str], keys: list[tuple[str, str]], histories: list) -> list[dict[str, Any]]:
    """The four V2 inputs for ``keys`` (entity, second label) and their histories (None: no history)."""
    ts, vs, width = v2_rows(histories)
    n = len(keys)
    return [
        {"name": names[0], "datatype": "BYTES", "shape": [n], "data": [k[0] for k in keys]},
        {"name": names[1], "datatype": "BYTES", "shape": [n], "data": [k[1] for k in keys]},
        {"name": "timestamps", "datatype": "INT64", "shape": [n, width], "data": ts},
        {"name": "values", "datatype": "FP32", "shape": [n, width], "data": vs},
    ]
