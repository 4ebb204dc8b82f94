"""Issue 18, findings 7, 8 and 10: malformed bodies are 400s (never 500s), error texts are short,
and a client's mistake is logged at INFO without a traceback."""

from __future__ import annotations

import grpc
import httpx
import numpy as np
import orjson
import pytest
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from serving.errors import MAX_MESSAGE

ROW = [0.5, 0.6, 0.4, 100, 80]
BINARY = "application/octet-stream"


def _binary(server, model: str, body: bytes, header_length: str) -> httpx.Response:
    headers = {"inference-header-content-length": header_length, "content-type": BINARY}
    return server.client.post(f"/v2/models/{model}/infer", content=body, headers=headers)


def _metrics_header(**parameters: int) -> bytes:
    tensor = {"name": "metrics", "shape": [1, 5], "datatype": "FP32", "parameters": parameters}
    return orjson.dumps({"inputs": [tensor]})


def test_binary_extension_with_a_good_body_is_answered(basic_server) -> None:
    header = _metrics_header(binary_data_size=20)
    r = _binary(basic_server, "anomaly-detector", header + np.asarray(ROW, "<f4").tobytes(), str(len(header)))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("body", "length"),
    [
        (b'{"inputs": []}xxxx', "abc"),  # not a number
        (b'{"inputs": []}xxxx', "99999"),  # past the body
        (b'{"inputs": []}xxxx', "-5"),
        (_metrics_header(binary_data_size=7) + b"\x00" * 7, str(len(_metrics_header(binary_data_size=7)))),
        (_metrics_header(binary_data_size=20) + b"\x00" * 3, str(len(_metrics_header(binary_data_size=20)))),
    ],
    ids=["header-length-abc", "header-length-past-body", "header-length-negative", "odd-size", "short-data"],
)
def test_malformed_binary_extension_is_400(basic_server, body: bytes, length: str) -> None:
    r = _binary(basic_server, "anomaly-detector", body, length)
    assert r.status_code == 400, r.text
    assert r.json()["error"]
    assert basic_server.alive()


def test_bad_bytes_length_prefix_is_400(basic_server) -> None:
    header = orjson.dumps(
        {
            "inputs": [
                {"name": "cluster", "shape": [1], "datatype": "BYTES", "data": ["c"]},
                {"name": "node", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}},
                {"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4]},
            ]
        }
    )
    r = _binary(basic_server, "node-outliers", header + b"\xff\xff\xff\x00ab", str(len(header)))
    assert r.status_code == 400, r.text


def test_grpc_non_utf8_bytes_is_invalid_argument(basic_server) -> None:
    inputs = [
        pb.ModelInferRequest.InferInputTensor(name="cluster", datatype="BYTES", shape=[1]),
        pb.ModelInferRequest.InferInputTensor(name="node", datatype="BYTES", shape=[1]),
        pb.ModelInferRequest.InferInputTensor(name="features", datatype="FP32", shape=[1, 4]),
    ]
    inputs[0].contents.bytes_contents.append(b"\xff\xfe")
    inputs[1].contents.bytes_contents.append(b"n0")
    inputs[2].contents.fp32_contents.extend([0.1, 0.2, 0.3, 0.4])
    request = pb.ModelInferRequest(model_name="node-outliers", inputs=inputs)
    with grpc.insecure_channel(f"127.0.0.1:{basic_server.grpc_port}") as channel, pytest.raises(grpc.RpcError) as err:
        pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("inputs.cluster[0]")


@pytest.mark.parametrize("flag", [True, False])
def test_v1_booleans_are_not_numbers(basic_server, flag: bool) -> None:
    r = basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [[flag, *ROW[1:]]]})
    assert r.status_code == 400
    assert r.json()["error"].startswith("instances[0][0]")


def test_error_texts_are_short_and_4xx_logged_without_traceback(basic_server) -> None:
    before = basic_server.log.read_text()
    huge = "x" * 100_000
    r = basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [[0.5, 0.6, huge, 100, 80]]})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error.startswith("instances[0][2]") and len(error) < MAX_MESSAGE + 50
    assert basic_server.client.post("/v1/models/no-such-model:predict", json={"instances": [ROW]}).status_code == 404
    r = basic_server.client.post("/v2/models/anomaly-detector/infer", json={"inputs": [{"name": huge}]})
    assert r.status_code == 400 and len(r.text) < MAX_MESSAGE + 100
    new = basic_server.log.read_text()[len(before) :]
    assert "Traceback" not in new and " ERROR " not in new, new[-3000:]
    assert len(new) < 5000  # no 100 KB value echoed into the log either
