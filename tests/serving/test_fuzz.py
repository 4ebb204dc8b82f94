"""Property-based fuzzing of the V1 and V2 endpoints: no input gets a 5xx or kills the server."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODELS = ("anomaly-detector", "node-outliers")
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(min_value=-(2**70), max_value=2**70),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6), st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=30,
)
metric_keys = st.sampled_from(
    [
        "cpu_usage",
        "memory_usage",
        "pod_restarts",
        "network_in",
        "network_out",
        "cluster",
        "node",
        "host_cpu",
        "host_mem",
        "pod_cpu",
        "pod_mem",
        "history",
        "x",
    ]
)
near_rows = st.one_of(
    st.lists(st.one_of(numbers, scalars), min_size=0, max_size=7),
    st.dictionaries(metric_keys, st.one_of(numbers, scalars, st.text(max_size=5)), max_size=8),
)
v1_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"instances": st.one_of(json_values, st.lists(near_rows, max_size=8))}),
)
datatypes = st.sampled_from(["FP32", "FP64", "INT32", "INT64", "BYTES", "BOOL", "UINT8", "FP16", "NOPE"])
v2_inputs = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["metrics", "features", "cluster", "node", "other"]),
        "shape": st.lists(st.integers(min_value=-2, max_value=6), min_size=0, max_size=3),
        "datatype": datatypes,
        "data": st.one_of(st.lists(st.one_of(numbers, st.text(max_size=4), st.booleans()), max_size=30), json_values),
    }
)
v2_bodies = st.one_of(json_values, st.fixed_dictionaries({"inputs": st.lists(v2_inputs, max_size=4)}))


@FUZZ
@given(model=st.sampled_from(MODELS), body=v1_bodies)
def test_v1_never_5xx(basic_server, model, body) -> None:
    r = basic_server.client.post(
        f"/v1/models/{model}:predict", content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code < 500, (body, r.text)


@FUZZ
@given(model=st.sampled_from(MODELS), body=v2_bodies)
def test_v2_never_5xx(basic_server, model, body) -> None:
    r = basic_server.client.post(
        f"/v2/models/{model}/infer", content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code < 500, (body, r.text)


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_5xx(basic_server, raw) -> None:
    for path in ("/v1/models/anomaly-detector:predict", "/v2/models/anomaly-detector/infer"):
        r = basic_server.client.post(path, content=raw, headers={"content-type": "application/json"})
        assert r.status_code < 500, (raw, r.text)


def test_server_alive_and_model_unchanged_after_fuzzing(basic_server) -> None:
    # runs after the fuzzers in this module: same process, same answers
    assert basic_server.alive()
    r = basic_server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [[0.5, 0.6, 0.4, 100, 80]]})
    assert r.status_code == 200
