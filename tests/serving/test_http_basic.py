"""The real predictor over real HTTP and gRPC: the decision record's calls and the error contract."""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import numpy as np
import pytest
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from metrics_ai.artifacts import ModelStore

RECORD_ROW = [0.5, 0.6, 0.4, 100, 80]


def test_record_v1_call_answers_design_shape(basic_server) -> None:
    r = basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [RECORD_ROW]})
    assert r.status_code == 200, r.text
    [prediction] = r.json()["predictions"]
    assert set(prediction) == {"label", "is_anomaly", "score", "top_metrics", "model_version"}
    assert prediction["label"] in (-1, 1) and prediction["is_anomaly"] == (prediction["label"] == -1)
    assert 0.0 <= prediction["score"] <= 1.0
    assert prediction["model_version"] == ModelStore(_root(basic_server), "anomaly-detector").current_version()


def test_v1_object_rows_equal_list_rows_and_keep_order(basic_server) -> None:
    names = ["cpu_usage", "memory_usage", "pod_restarts", "network_in", "network_out"]
    rows = [RECORD_ROW, [0.9, 0.95, 9.0, 900, 700], RECORD_ROW]
    as_lists = basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": rows}).json()
    as_objects = basic_server.client.post(
        "/v1/models/anomaly-detector:predict", json={"instances": [dict(zip(names, r, strict=True)) for r in rows]}
    ).json()
    assert as_lists == as_objects
    scores = [p["score"] for p in as_lists["predictions"]]
    assert len(scores) == 3 and scores[1] > scores[0]  # the wild row scores higher


def test_v2_rest_matches_v1(basic_server) -> None:
    rows = [RECORD_ROW, [0.9, 0.95, 9.0, 900, 700]]
    v1 = basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": rows}).json()
    body = {"inputs": [{"name": "metrics", "shape": [2, 5], "datatype": "FP32", "data": sum(rows, [])}]}
    r = basic_server.client.post("/v2/models/anomaly-detector/infer", json=body)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    assert outputs["label"]["datatype"] == "INT32" and outputs["label"]["shape"] == [2]
    assert outputs["label"]["data"] == [p["label"] for p in v1["predictions"]]
    np.testing.assert_allclose(outputs["score"]["data"], [p["score"] for p in v1["predictions"]], rtol=1e-5)


def test_v2_grpc_infer_and_invalid_argument(basic_server) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{basic_server.grpc_port}")
    stub = pb_grpc.GRPCInferenceServiceStub(channel)
    tensor = pb.ModelInferRequest.InferInputTensor(name="metrics", datatype="FP32", shape=[1, 5])
    tensor.contents.fp32_contents.extend(RECORD_ROW)
    reply = stub.ModelInfer(pb.ModelInferRequest(model_name="anomaly-detector", inputs=[tensor]), timeout=20)
    names = [o.name for o in reply.outputs]
    assert names == ["label", "score"] and reply.model_version
    bad = pb.ModelInferRequest.InferInputTensor(name="metrics", datatype="FP32", shape=[1, 4])
    bad.contents.fp32_contents.extend(RECORD_ROW[:4])
    with pytest.raises(grpc.RpcError) as err:
        stub.ModelInfer(pb.ModelInferRequest(model_name="anomaly-detector", inputs=[bad]), timeout=20)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "metrics" in err.value.details()
    channel.close()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instances": [[0.5, 0.6, 0.4, 100]]}, "instances[0]"),
        ({"instances": [[0.5, 0.6, "x", 100, 80]]}, "instances[0][2]"),
        ({"instances": [[0.5, 0.6, 0.4, 100, None]]}, "instances[0][4]"),
        ({"instances": []}, "instances"),
        ({"instancez": [RECORD_ROW]}, "instances"),
        ({"instances": [{"cpu_usage": 1}]}, "instances[0]"),
        ({"instances": [RECORD_ROW, {"cpu_usage": 1}]}, "instances[1]"),
    ],
)
def test_v1_bad_input_is_400_naming_the_field(basic_server, body, field) -> None:
    r = basic_server.client.post("/v1/models/anomaly-detector:predict", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(field)


def test_malformed_json_is_400(basic_server) -> None:
    r = basic_server.client.post(
        "/v1/models/anomaly-detector:predict",
        content=b'{"instances": [[1,',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400


def test_unknown_model_is_404(basic_server) -> None:
    assert basic_server.client.post("/v1/models/nope:predict", json={"instances": [RECORD_ROW]}).status_code == 404


def test_node_outliers_known_cluster_and_adhoc(basic_server, basic_models: Path) -> None:
    known = ModelStore(basic_models, "node-outliers").current().entities[0]
    base = {"host_cpu": 0.3, "host_mem": 0.5, "pod_cpu": 0.25, "pod_mem": 0.4}
    instances = [{"cluster": known, "node": f"n{i}", **base} for i in range(3)]
    r = basic_server.client.post("/v1/models/node-outliers:predict", json={"instances": instances})
    assert r.status_code == 200, r.text
    assert [p["node"] for p in r.json()["predictions"]] == ["n0", "n1", "n2"]
    jitter = [0.0, 0.02, -0.015, 0.01, 0.0]
    peers = [{"cluster": "new", "node": f"n{i}", **{k: v + j for k, v in base.items()}} for i, j in enumerate(jitter)]
    peers[4] = {**peers[4], "host_cpu": 0.95, "pod_mem": 0.97}
    answer = basic_server.client.post("/v1/models/node-outliers:predict", json={"instances": peers}).json()
    assert [p["model"] for p in answer["predictions"]] == ["ad-hoc"] * 5
    assert [p["is_outlier"] for p in answer["predictions"]] == [False] * 4 + [True]
    lone = basic_server.client.post("/v1/models/node-outliers:predict", json={"instances": peers[:2]})
    assert lone.status_code == 400 and "instances[0].cluster" in lone.json()["error"]


def test_corrupt_model_is_not_ready_while_the_other_serves(tmp_path: Path, basic_models: Path, start_predictor) -> None:
    root = tmp_path / "models"
    shutil.copytree(basic_models, root, symlinks=True)
    store = ModelStore(root, "node-outliers")
    manifest = store.current()
    victim = store.version_dir(manifest.version) / "clusters.json"
    victim.chmod(0o644)
    victim.write_text("{}")  # checksum no longer matches
    server = start_predictor(root)
    assert server.client.get("/v1/models/node-outliers").status_code == 503
    r = server.client.post("/v1/models/node-outliers:predict", json={"instances": [{"cluster": "x"}]})
    assert r.status_code == 503
    assert server.client.get("/v1/models/anomaly-detector").json()["ready"] is True
    ok = server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [RECORD_ROW]})
    assert ok.status_code == 200
    assert "sha256" in server.log.read_text()


def test_empty_model_dir_serves_nothing_ready_and_stays_up(tmp_path: Path, start_predictor) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    server = start_predictor(root)
    assert server.client.get("/v1/models/anomaly-detector").status_code == 503
    assert server.alive()


def _root(server) -> Path:
    return Path(server.proc.args[server.proc.args.index("--model-dir") + 1])


def test_v2_schema_errors_are_400_naming_the_field(basic_server) -> None:
    r = basic_server.client.post("/v2/models/anomaly-detector/infer", json={"inputz": []})
    assert r.status_code == 400 and r.json()["error"].startswith("inputs")
    bad_shape = {"inputs": [{"name": "metrics", "shape": "1x5", "datatype": "FP32", "data": [1, 2, 3, 4, 5]}]}
    r = basic_server.client.post("/v2/models/anomaly-detector/infer", json=bad_shape)
    assert r.status_code == 400 and "shape" in r.json()["error"]
