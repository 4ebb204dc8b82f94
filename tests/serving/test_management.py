"""Issue 18, finding 1 and 10: no client can unload a model unless MODEL_MANAGEMENT is on, and
readiness (server, model, ``metrics_ai_model_ready``) follows what is really loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from metrics_ai.artifacts import ModelStore

ROW = [0.5, 0.6, 0.4, 100, 80]
MODEL = "anomaly-detector"


def ready_gauge(server, model: str) -> float:
    """``metrics_ai_model_ready{model=...}`` as served on /metrics (fails if absent)."""
    for line in server.client.get("/metrics").text.splitlines():
        if line.startswith("metrics_ai_model_ready{") and f'model="{model}"' in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"metrics_ai_model_ready for {model} not exported")


def predicts(server) -> bool:
    r = server.client.post(f"/v1/models/{MODEL}:predict", json={"instances": [ROW]})
    return r.status_code == 200


def grpc_stub(server) -> tuple[grpc.Channel, pb_grpc.GRPCInferenceServiceStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    return channel, pb_grpc.GRPCInferenceServiceStub(channel)


@pytest.mark.parametrize("action", ["unload", "load"])
def test_rest_model_management_refused_by_default(basic_server, action: str) -> None:
    r = basic_server.client.post(f"/v2/repository/models/{MODEL}/{action}")
    assert r.status_code == 403, r.text
    assert "MODEL_MANAGEMENT" in r.json()["error"]
    assert predicts(basic_server)
    assert basic_server.client.get("/v2/health/ready").json() == {"ready": True}
    assert basic_server.client.get(f"/v2/models/{MODEL}/ready").status_code == 200
    assert ready_gauge(basic_server, MODEL) == 1.0


def test_grpc_model_management_refused_by_default(basic_server) -> None:
    channel, stub = grpc_stub(basic_server)
    with channel:
        with pytest.raises(grpc.RpcError) as err:
            stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name=MODEL), timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "MODEL_MANAGEMENT" in err.value.details()
        with pytest.raises(grpc.RpcError) as err:
            stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name=MODEL), timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert stub.ModelReady(pb.ModelReadyRequest(name=MODEL), timeout=10).ready
        assert stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready
    assert predicts(basic_server)
    assert ready_gauge(basic_server, MODEL) == 1.0


def test_with_management_unload_makes_not_ready_and_load_restores(basic_models: Path, start_predictor) -> None:
    server = start_predictor(basic_models, env={"METRICS_AI_MODEL_MANAGEMENT": "true"})
    assert server.client.get("/v2/health/ready").status_code == 200
    r = server.client.post(f"/v2/repository/models/{MODEL}/unload")
    assert r.status_code == 200, r.text
    assert server.client.get("/v2/health/ready").status_code == 503
    assert server.client.get(f"/v2/models/{MODEL}/ready").status_code != 200
    assert ready_gauge(server, MODEL) == 0.0
    assert ready_gauge(server, "node-outliers") == 1.0
    assert not predicts(server)
    r = server.client.post(f"/v2/repository/models/{MODEL}/load")
    assert r.status_code == 200, r.text
    assert server.client.get("/v2/health/ready").status_code == 200
    assert ready_gauge(server, MODEL) == 1.0
    assert predicts(server)
    channel, stub = grpc_stub(server)
    with channel:
        reply = stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="node-outliers"), timeout=10)
        assert reply.isUnloaded
        assert not stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready
        assert ready_gauge(server, "node-outliers") == 0.0
        assert stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="node-outliers"), timeout=10).isLoaded
        assert stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready


def test_server_not_ready_while_a_served_model_is_not(tmp_path: Path, basic_models: Path, start_predictor) -> None:
    root = tmp_path / "models"
    shutil.copytree(basic_models, root, symlinks=True)
    store = ModelStore(root, "node-outliers")
    victim = store.version_dir(store.current().version) / "clusters.json"
    victim.chmod(0o644)
    victim.write_text("{}")  # checksum no longer matches
    server = start_predictor(root)
    assert server.client.get("/v2/health/ready").status_code == 503
    assert ready_gauge(server, "node-outliers") == 0.0
    assert ready_gauge(server, MODEL) == 1.0
    assert predicts(server)
