"""Issue 18, finding 2: request limits with clear 413/400 answers, checked against a real predictor.

The liveness and memory checks (heavy requests off the event loop, the 1 GiB pod) are in
``test_heavy_requests.py``.
"""

from __future__ import annotations

import grpc
import httpx
import pytest
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from metrics_ai.settings import Settings
from tests.serving.disk_io import ramp

ROW = [0.5, 0.6, 0.4, 100, 80]
DEFAULTS = Settings()


def _post(server, path: str, content: bytes) -> httpx.Response:
    return server.client.post(path, content=content, headers={"content-type": "application/json"})


def test_body_over_the_limit_is_413_before_parsing(basic_server) -> None:
    # not even JSON: a parser would answer 400, the limit answers first
    body = b"[" * (DEFAULTS.max_body_bytes + 1)
    r = _post(basic_server, "/v1/models/anomaly-detector:predict", body)
    assert r.status_code == 413, r.text
    assert "MAX_BODY_BYTES" in r.json()["error"] and r.json()["error"].startswith("body")
    r = _post(basic_server, "/v2/models/anomaly-detector/infer", body)
    assert r.status_code == 413


def test_chunked_body_over_the_limit_is_413(basic_server) -> None:
    def chunks():
        for _ in range(DEFAULTS.max_body_bytes // 65536 + 2):
            yield b" " * 65536

    r = basic_server.client.post("/v1/models/anomaly-detector:predict", content=chunks())
    assert r.status_code == 413, r.text
    assert basic_server.client.get("/v2/health/live").status_code == 200


def test_chunked_body_within_the_limit_is_answered(basic_server) -> None:
    def chunks():
        yield b'{"instances": ['
        yield b"[0.5, 0.6, 0.4, 100, 80]"
        yield b"]}"

    r = basic_server.client.post(
        "/v1/models/anomaly-detector:predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["predictions"]) == 1


def test_too_many_instances_is_400_naming_instances(basic_server) -> None:
    n = DEFAULTS.max_instances + 1
    r = basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [ROW] * n})
    assert r.status_code == 400
    assert r.json()["error"].startswith("instances:") and "MAX_INSTANCES" in r.json()["error"]
    tensor = {"name": "metrics", "datatype": "FP32", "shape": [n, 5], "data": ROW * n}
    r = basic_server.client.post("/v2/models/anomaly-detector/infer", json={"inputs": [tensor]})
    assert r.status_code == 400
    assert r.json()["error"].startswith("inputs.metrics:") and "MAX_INSTANCES" in r.json()["error"]


def test_long_strings_are_400_naming_the_field(basic_server) -> None:
    long = "n" * (DEFAULTS.max_string_length + 1)
    r = basic_server.client.post("/v1/models/node-outliers:predict", json={"instances": [{"cluster": long}]})
    assert r.status_code == 400
    assert r.json()["error"].startswith("instances[0].cluster:") and "MAX_STRING_LENGTH" in r.json()["error"]
    assert len(r.text) < 1000  # the value is not echoed
    inputs = [
        {"name": "cluster", "datatype": "BYTES", "shape": [1], "data": ["c"]},
        {"name": "node", "datatype": "BYTES", "shape": [1], "data": [long]},
        {"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [0.1, 0.2, 0.3, 0.4]},
    ]
    r = basic_server.client.post("/v2/models/node-outliers/infer", json={"inputs": inputs})
    assert r.status_code == 400
    assert r.json()["error"].startswith("inputs.node:") and "MAX_STRING_LENGTH" in r.json()["error"]


def test_too_long_history_is_400_naming_it(disk_io_server) -> None:
    n = DEFAULTS.max_history_points + 1
    history = ramp(10, 20, n=n, step=60)
    instance = {"node": "n1", "mountpoint": "/", "history": history}
    r = disk_io_server.client.post("/v1/models/disk-eta:predict", json={"instances": [instance]})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error.startswith("instances[0].history.timestamps:") and "MAX_HISTORY_POINTS" in error
    inputs = [
        {"name": "node", "datatype": "BYTES", "shape": [1], "data": ["n1"]},
        {"name": "mountpoint", "datatype": "BYTES", "shape": [1], "data": ["/"]},
        {"name": "timestamps", "datatype": "INT64", "shape": [1, n], "data": [int(t) for t in history["timestamps"]]},
        {"name": "values", "datatype": "FP32", "shape": [1, n], "data": history["values"]},
    ]
    r = disk_io_server.client.post("/v2/models/disk-eta/infer", json={"inputs": inputs})
    assert r.status_code == 400
    assert r.json()["error"].startswith("inputs.") and "MAX_HISTORY_POINTS" in r.json()["error"]


def test_v2_duplicate_input_names_are_400(basic_server) -> None:
    tensor = {"name": "metrics", "datatype": "FP32", "shape": [1, 5], "data": ROW}
    r = basic_server.client.post("/v2/models/anomaly-detector/infer", json={"inputs": [tensor, tensor]})
    assert r.status_code == 400
    assert r.json()["error"].startswith("inputs:") and "more than once" in r.json()["error"]


def test_grpc_message_over_the_limit_is_refused(basic_server) -> None:
    rows = DEFAULTS.max_body_bytes // (5 * 4) + 1000
    tensor = pb.ModelInferRequest.InferInputTensor(name="metrics", datatype="FP32", shape=[rows, 5])
    tensor.contents.fp32_contents.extend([0.5] * (rows * 5))
    request = pb.ModelInferRequest(model_name="anomaly-detector", inputs=[tensor])
    assert request.ByteSize() > DEFAULTS.max_body_bytes
    with grpc.insecure_channel(f"127.0.0.1:{basic_server.grpc_port}") as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.ModelInfer(request, timeout=30)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live
