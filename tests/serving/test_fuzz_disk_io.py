"""Property-based fuzzing of disk-eta and io-crisis (V1, V2 REST, V2 gRPC) with near-valid requests.

Requests start valid (histories of up to 2000 points, known and unknown entities) and
are then bent: entries replaced by junk, timestamps repeated or swapped, lists cut,
datatypes and shapes changed. No answer may be a 5xx, and afterwards the same process
answers exactly as it did before.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from tests.serving.disk_io import CRISIS_KEYS, DISK_KEYS, END, grade
from tests.serving.test_fuzz import json_values, scalars

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
MODELS = ("disk-eta", "io-crisis")
#: per model: the V1 key besides node, its valid values, the V2 names of node and that key
SECOND = {
    "disk-eta": ("mountpoint", ["/", "/var/log", "/data"], ("node", "mountpoint")),
    "io-crisis": ("signal", ["io_wait", "net_rx", "net_tx"], ("entity", "signal")),
}
NODES = ["prod-east-worker-0", "prod-east-worker-1", "standalone-0", "new-node"]
#: value ranges per model: mostly valid, one a little outside
RANGES = {
    "disk-eta": [(0.0, 100.0), (60.0, 95.0), (85.0, 100.0), (-5.0, 105.0)],
    "io-crisis": [(0.0, 1.0), (0.2, 0.4), (0.0, 2e9), (1e8, 1e10)],
}
GRPC_OK = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}

lengths = st.one_of(st.sampled_from([1, 2, 49, 50, 51]), st.integers(0, 2000))
texts = st.one_of(st.text(max_size=8), st.sampled_from(["", "\x00", "é", "/" * 300]))
junk = st.one_of(scalars, json_values, st.sampled_from([1e308, -1e308, 2**63, 2**70, "NaN", "inf", "2026-13-45"]))


@st.composite
def series(draw: st.DrawFn, model: str, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Increasing unix seconds and a noisy trend, ``n`` points."""
    n = draw(lengths) if n is None else n
    step = draw(st.sampled_from([60, 300, 3600, 1]))
    lo, hi = draw(st.sampled_from(RANGES[model]))
    start, stop = draw(st.floats(lo, hi)), draw(st.floats(lo, hi))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    noise = draw(st.sampled_from([0.0, 0.01, 0.1])) * (hi - lo)
    values = np.clip(np.linspace(start, stop, n) + rng.normal(0, noise + 1e-12, n), lo, hi)
    return END - step * np.arange(n)[::-1], values


@st.composite
def histories(draw: st.DrawFn, model: str, bend: bool) -> Any:
    """A V1 history object; ``bend``: junk, cuts, repeats and swaps in a few places."""
    ts_arr, vs_arr = draw(series(model))
    ts: list[Any] = ts_arr.tolist()
    if draw(st.booleans()):
        ts = [datetime.fromtimestamp(t, UTC).isoformat() for t in ts]
    values: list[Any] = vs_arr.tolist()
    changes = st.lists(st.tuples(st.integers(0, 5), st.floats(0, 1, exclude_max=True), junk), min_size=1, max_size=3)
    for kind, where, value in draw(changes) if bend else []:
        target = values if kind % 2 else ts
        if not target:
            continue
        i = int(where * len(target))
        if kind < 2:
            target[i] = value  # junk in place
        elif kind < 4:
            del target[i]  # lengths differ
        elif i and kind == 4:
            ts[i] = ts[i - 1]  # a repeated timestamp
        elif i:
            ts[i], ts[i - 1] = ts[i - 1], ts[i]  # out of order
    history: Any = {"timestamps": ts, "values": values}
    if bend and draw(st.integers(0, 4)) == 0:
        history = draw(st.one_of(json_values, st.just({"timestamps": ts}), st.just({**history, "extra": 1})))
    return history


def instances(model: str, bend: bool) -> st.SearchStrategy[dict[str, Any]]:
    """A V1 instance: node, the second key, an optional history; ``bend``: any of them off."""
    key, valid, _ = SECOND[model]
    nodes, keys = st.sampled_from(NODES), st.sampled_from(valid)
    if not bend:
        return st.fixed_dictionaries({"node": nodes, key: keys}, optional={"history": histories(model, bend=False)})
    return st.fixed_dictionaries(
        {"node": st.one_of(nodes, texts, scalars)},
        optional={
            key: st.one_of(keys, texts, scalars),
            "x": junk,
            "history": st.one_of(histories(model, bend=True), histories(model, bend=False), st.none()),
        },
    )


def v1_bodies(model: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries({"instances": st.lists(instances(model, bend=False), min_size=1, max_size=3)}),
        st.fixed_dictionaries(
            {"instances": st.lists(st.one_of(instances(model, bend=False), instances(model, bend=True)), max_size=4)}
        ),
        st.fixed_dictionaries({"instances": st.one_of(json_values, st.lists(json_values, max_size=3))}),
    )


@st.composite
def v2_inputs(draw: st.DrawFn, model: str) -> list[dict[str, Any]]:
    """The four V2 tensors of ``model``, valid with NaN padding, then bent."""
    _, valid, (name_a, name_b) = SECOND[model]
    n = draw(st.integers(0, 3))
    width = draw(st.one_of(st.sampled_from([0, 49, 50]), st.integers(0, 2000 // max(n, 1))))
    ts_rows, vs_rows = [], []
    for _ in range(n):
        ts, vs = draw(series(model, width))
        keep = draw(st.integers(0, width))  # pad the tail with NaN (null over JSON)
        ts_rows += ts.astype(int).tolist()
        vs_rows += vs[:keep].tolist() + [None] * (width - keep)
    tensors = [
        {
            "name": name_a,
            "datatype": "BYTES",
            "shape": [n],
            "data": draw(st.lists(st.one_of(st.sampled_from(NODES), texts), min_size=n, max_size=n)),
        },
        {
            "name": name_b,
            "datatype": "BYTES",
            "shape": [n],
            "data": draw(st.lists(st.one_of(st.sampled_from(valid), texts), min_size=n, max_size=n)),
        },
        {"name": "timestamps", "datatype": "INT64", "shape": [n, width], "data": ts_rows},
        {"name": "values", "datatype": "FP32", "shape": [n, width], "data": vs_rows},
    ]
    for which, change, value in draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6), junk), max_size=2)):
        t = tensors[which]
        if change == 0:
            t["datatype"] = draw(st.sampled_from(["FP32", "FP64", "INT32", "INT64", "BYTES", "BOOL", "NOPE"]))
        elif change == 1:
            t["shape"] = draw(st.lists(st.integers(-1, 2001), max_size=3))
        elif change == 2 and isinstance(t["data"], list) and t["data"]:
            t["data"][draw(st.integers(0, len(t["data"]) - 1))] = value
        elif change == 3 and isinstance(t["data"], list):
            t["data"] = t["data"][: draw(st.integers(0, len(t["data"])))]
        elif change == 4:
            t["name"] = draw(st.sampled_from(["values", "timestamps", "entity", "node", "signal", "x"]))
        elif change == 5:
            t["data"] = value
        else:
            tensors.remove(t)
            break
    return tensors


@pytest.fixture(scope="module")
def baseline(disk_io_server) -> dict[str, Any]:
    """Answers taken before any fuzzing; the last test asks again."""
    return _fixed_answers(disk_io_server)


def _fixed_answers(server) -> dict[str, Any]:
    ts = [END - 300 * (59 - i) for i in range(60)]
    answers: dict[str, Any] = {}
    for model, (key, valid, _) in SECOND.items():
        hist = {"timestamps": ts, "values": np.linspace(0.1, 0.2, 60).tolist()}
        body = {"instances": [{"node": NODES[0], key: valid[0]}, {"node": "new-node", key: valid[0], "history": hist}]}
        r = server.client.post(f"/v1/models/{model}:predict", json=body)
        assert r.status_code == 200, r.text
        answers[model] = r.json()
    return answers


def _post(server, path: str, body: Any):
    return server.client.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


@FUZZ
@given(data=st.data(), model=st.sampled_from(MODELS))
def test_v1_near_valid_never_5xx(disk_io_server, baseline, data, model) -> None:
    body = data.draw(v1_bodies(model))
    r = _post(disk_io_server, f"/v1/models/{model}:predict", body)
    event(f"HTTP {r.status_code}")  # --hypothesis-show-statistics: how many got through
    assert r.status_code < 500, (body, r.text)
    if r.status_code == 200:
        predictions = r.json()["predictions"]
        assert len(predictions) == len(body["instances"])
        for instance, prediction in zip(body["instances"], predictions, strict=True):
            check_v1(model, instance, prediction)


@FUZZ
@given(data=st.data(), model=st.sampled_from(MODELS))
def test_v2_rest_near_valid_never_5xx(disk_io_server, baseline, data, model) -> None:
    inputs = data.draw(v2_inputs(model))
    r = _post(disk_io_server, f"/v2/models/{model}/infer", {"inputs": inputs})
    event(f"HTTP {r.status_code}")
    assert r.status_code < 500, (inputs, r.text)
    if r.status_code == 200:
        outputs = r.json()["outputs"]
        rows = {tuple(o["shape"]) for o in outputs} | {(len(o["data"]),) for o in outputs}
        assert len(rows) == 1 and len(next(iter(rows))) == 1, outputs  # one [N] for every output


@settings(FUZZ, max_examples=60)
@given(data=st.data(), model=st.sampled_from(MODELS))
def test_v2_grpc_near_valid_never_internal(disk_io_server, baseline, data, model) -> None:
    request = _grpc_request(model, data.draw(v2_inputs(model)))
    with grpc.insecure_channel(f"127.0.0.1:{disk_io_server.grpc_port}") as channel:
        try:
            pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=20)
            event("gRPC OK")
        except grpc.RpcError as err:
            event(f"gRPC {err.code().name}")
            assert err.code() in GRPC_OK, (request, err.code(), err.details())


def check_v1(model: str, instance: dict[str, Any], p: dict[str, Any]) -> None:
    """What every answered V1 prediction must satisfy, whatever the history."""
    assert p["node"] == instance["node"] and isinstance(p["model_version"], str) and p["model_version"]
    assert set(p) - {"note", "reason", "cluster"} == (DISK_KEYS if model == "disk-eta" else CRISIS_KEYS), p
    assert p.get("cluster", "x"), p  # a node in a cluster names it; a standalone one has no key
    if model == "disk-eta":
        eta = p["eta_days"]
        assert 0 <= p["current_usage"] <= 100 and p["severity"] == grade(eta["ensemble"]), p
        assert all(e is None or 0 <= e < math.inf for e in eta.values()), p
        given_etas = [e for e in (eta["linear"], eta["prophet"]) if e is not None]
        assert eta["ensemble"] == (None if "reason" in p or not given_etas else min(given_etas)), p
    else:
        assert p["crisis"] == (p["days_to_crisis"] is not None), p
        assert p["days_to_crisis"] is None or 0 <= p["days_to_crisis"] <= 7, p


def _grpc_request(model: str, inputs: list[dict[str, Any]]) -> pb.ModelInferRequest:
    """The same tensors as a gRPC request (content that protobuf cannot hold is not sent)."""
    tensors = []
    for t in inputs:
        shape = t["shape"] if isinstance(t["shape"], list) else []
        assume(all(d >= 0 for d in shape))  # protobuf's shape is int64: negative dims are REST-only
        tensor = pb.ModelInferRequest.InferInputTensor(name=t["name"], datatype=t["datatype"], shape=shape)
        data = t["data"] if isinstance(t["data"], list) else [t["data"]]
        field = {
            "BYTES": "bytes_contents",
            "INT64": "int64_contents",
            "FP32": "fp32_contents",
            "FP64": "fp64_contents",
            "INT32": "int_contents",
            "BOOL": "bool_contents",
        }.get(t["datatype"], "fp32_contents")
        try:
            getattr(tensor.contents, field).extend(
                str(v).encode() if field == "bytes_contents" else (math.nan if v is None else v) for v in data
            )
        except (TypeError, ValueError, OverflowError):
            assume(False)
        tensors.append(tensor)
    return pb.ModelInferRequest(model_name=model, inputs=tensors)


def test_server_alive_and_answers_unchanged_after_fuzzing(disk_io_server, baseline) -> None:
    # runs after the fuzzers in this module: same process, same answers
    assert disk_io_server.alive()
    assert _fixed_answers(disk_io_server) == baseline
