"""resource-forecast through the real predictor: V1 (with and without history), V2 REST and gRPC, errors, fuzz."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from metrics_ai.artifacts import ModelStore
from metrics_ai.settings import Settings
from tests.conftest import FIXED_END, Predictor, train_into
from tests.serving.conftest import NO_PROMETHEUS

END = int(FIXED_END.timestamp())
KEYS = {"entity", "signal", "timestamps", "ensemble", "components", "lower", "upper", "deviation", "backtest",
        "source", "model_version"}


@pytest.fixture(scope="module")
def forecast_server(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame,
                    settings: Settings) -> Iterator[tuple[Predictor, Path]]:
    """resource-forecast with all three components (1 LSTM epoch), served for this module."""
    root = train_into(tmp_path_factory.mktemp("forecast"), tiny_frame,
                      settings.model_copy(update={"lstm_epochs": 1}), ["resource-forecast"])
    server = Predictor(root, "resource-forecast", env=NO_PROMETHEUS)
    try:
        server.wait_live()
        deadline = time.monotonic() + 30
        while server.client.get("/v1/models/resource-forecast").status_code != 200:
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.2)
        yield server, root
    finally:
        server.stop()


def history(n: int = 1440, level: float = 0.4) -> dict[str, list[float]]:
    t = END - 60 * np.arange(n)[::-1]
    return {"timestamps": t.tolist(), "values": (level + 0.05 * np.sin(2 * np.pi * t / 86400)).tolist()}


def predict(server: Predictor, *instances: dict) -> list[dict]:
    r = server.client.post("/v1/models/resource-forecast:predict", json={"instances": list(instances)})
    assert r.status_code == 200, r.text
    return r.json()["predictions"]


def test_cluster_cpu_from_training_state_and_with_history(forecast_server) -> None:
    server, root = forecast_server
    manifest = ModelStore(root, "resource-forecast").current()
    assert manifest.components == ["prophet", "arima", "lstm"]
    cluster = "prod-east"  # the tiny profile's cluster
    [saved, fresh] = predict(server, {"entity": cluster, "signal": "cpu"},
                             {"entity": cluster, "signal": "cpu", "history": history()})
    for p in (saved, fresh):
        assert set(p) >= KEYS and p["model_version"] == manifest.version
        assert len(p["timestamps"]) == len(p["ensemble"]) == len(p["lower"]) == len(p["upper"]) == 15
        assert set(p["components"]) == {"prophet", "arima", "lstm"}
        assert all(lo <= e <= hi for lo, e, hi in zip(p["lower"], p["ensemble"], p["upper"], strict=True))
        assert p["deviation"]["severity"] in ("INFO", "WARNING", "CRITICAL")
    assert saved["source"] == "training-state" and fresh["source"] == "request"
    assert pd.Timestamp(fresh["timestamps"][0]) == pd.Timestamp(END + 60, unit="s", tz="UTC")
    assert abs(np.mean(fresh["ensemble"]) - 0.4) < 0.15  # forecasts follow the level sent


def test_unseen_entity_with_history_gets_a_fallback_answer(forecast_server) -> None:
    server, _ = forecast_server
    [p] = predict(server, {"entity": "brand-new", "signal": "net_rx", "history": history(level=2e8)})
    assert len(p["ensemble"]) == 15 and p["ensemble"][0] > 1e8


@pytest.mark.parametrize(
    ("instance", "field"),
    [
        ({"entity": "prod-east", "signal": "gpu"}, "instances[0].signal"),
        ({"entity": "brand-new", "signal": "cpu"}, "instances[0]"),
        ({"entity": "prod-east", "signal": "cpu", "history": {"timestamps": [1, 2], "values": [1]}},
         "instances[0].history"),
        ({"entity": "prod-east", "signal": "cpu", "history": {"timestamps": [2, 1], "values": [1, 2]}},
         "instances[0].history.timestamps[1]"),
        ({"entity": "prod-east", "signal": "cpu", "history": {"timestamps": [], "values": []}},
         "instances[0].history"),
    ],
)
def test_bad_instances_are_4xx_naming_the_field(forecast_server, instance: dict, field: str) -> None:
    server, _ = forecast_server
    r = server.client.post("/v1/models/resource-forecast:predict", json={"instances": [instance]})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"].startswith(field), r.json()


def test_v2_rest_and_grpc_match_v1(forecast_server) -> None:
    server, _ = forecast_server
    h = history(240)
    [v1] = predict(server, {"entity": "prod-east", "signal": "cpu", "history": h})
    inputs = [
        {"name": "entity", "shape": [1], "datatype": "BYTES", "data": ["prod-east"]},
        {"name": "signal", "shape": [1], "datatype": "BYTES", "data": ["cpu"]},
        {"name": "timestamps", "shape": [1, 240], "datatype": "INT64", "data": [int(t) for t in h["timestamps"]]},
        {"name": "values", "shape": [1, 240], "datatype": "FP32", "data": h["values"]},
    ]
    r = server.client.post("/v2/models/resource-forecast/infer", json={"inputs": inputs})
    assert r.status_code == 200, r.text
    out = {o["name"]: o for o in r.json()["outputs"]}
    assert out["forecast"]["shape"] == [1, 15] and out["forecast_timestamps"]["datatype"] == "INT64"
    np.testing.assert_allclose(out["forecast"]["data"], v1["ensemble"], rtol=1e-4, atol=1e-6)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    request = pb.ModelInferRequest(model_name="resource-forecast")
    for spec in inputs:
        tensor = request.inputs.add(name=spec["name"], datatype=spec["datatype"], shape=spec["shape"])
        if spec["datatype"] == "BYTES":
            tensor.contents.bytes_contents.extend(str(v).encode() for v in spec["data"])
        elif spec["datatype"] == "INT64":
            tensor.contents.int64_contents.extend(spec["data"])
        else:
            tensor.contents.fp32_contents.extend(spec["data"])
    reply = pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=30)
    channel.close()
    names = [o.name for o in reply.outputs]
    assert {"forecast", "lower", "upper", "forecast_timestamps"} <= set(names)
    i = names.index("forecast")
    forecast = (np.frombuffer(reply.raw_output_contents[i], dtype=np.float32) if reply.raw_output_contents
                else np.asarray(reply.outputs[i].contents.fp32_contents))
    np.testing.assert_allclose(forecast, v1["ensemble"], rtol=1e-4, atol=1e-6)


numbers = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**40), 2**40))
junk = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=6))
histories = st.one_of(
    junk,
    st.fixed_dictionaries({"timestamps": st.lists(st.one_of(numbers, st.text(max_size=25)), max_size=80),
                           "values": st.lists(st.one_of(numbers, junk), max_size=80)}),
)
instances = st.fixed_dictionaries(
    {"entity": st.one_of(st.sampled_from(["prod-east", "standalone-0", "zz"]), junk),
     "signal": st.one_of(st.sampled_from(["cpu", "memory", "io_wait", "net_rx", "net_tx"]), junk)},
    optional={"history": histories},
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(instances, min_size=0, max_size=4))
def test_fuzz_never_5xx(forecast_server, batch) -> None:
    server, _ = forecast_server
    r = server.client.post("/v1/models/resource-forecast:predict", json={"instances": batch})
    assert r.status_code < 500, (batch, r.text)


def test_alive_after_fuzz(forecast_server) -> None:
    server, _ = forecast_server
    assert server.alive()
    assert predict(server, {"entity": "prod-east", "signal": "cpu"})
