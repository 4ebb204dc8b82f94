"""disk-eta and io-crisis through the real predictor: V1 and V2 over REST and gRPC, and the error contract.

"Never" over V2: the contract's ``+inf`` reaches gRPC clients as ``+inf``; JSON has no
infinity, so REST answers ``null`` there (and for "too few points", NaN over gRPC).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

from metrics_ai.artifacts import ModelStore
from metrics_ai.families.disk_eta import DiskEtaPredictor
from metrics_ai.families.io_crisis import IoCrisisPredictor
from tests.serving.disk_io import (
    CRISIS_KEYS,
    DISK_KEYS,
    END,
    as_json,
    grade,
    grpc_request,
    grpc_v2,
    ramp,
    rest_v2,
    tensors,
    v1,
    v1_error,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def disk_state(disk_io_models: Path) -> tuple[str, DiskEtaPredictor]:
    manifest, folder = ModelStore(disk_io_models, "disk-eta").verify()
    return manifest.version, DiskEtaPredictor.load(folder, manifest)


@pytest.fixture(scope="module")
def crisis_state(disk_io_models: Path) -> tuple[str, IoCrisisPredictor]:
    manifest, folder = ModelStore(disk_io_models, "io-crisis").verify()
    return manifest.version, IoCrisisPredictor.load(folder, manifest)


# --- disk-eta V1 ---------------------------------------------------------------------------------


def test_disk_known_without_and_with_history(disk_io_server, disk_state) -> None:
    version, state = disk_state
    (node, mount), disk = next((k, d) for k, d in sorted(state.disks.items()) if d.prophet is not None)
    [stored] = v1(disk_io_server, "disk-eta", {"node": node, "mountpoint": mount})
    assert set(stored) == DISK_KEYS, stored
    assert set(stored["eta_days"]) == {"linear", "prophet", "ensemble"}
    assert (stored["node"], stored["mountpoint"], stored["threshold"]) == (node, mount, 90.0)
    assert stored["source"] == "training-state" and stored["model_version"] == version
    assert stored["current_usage"] == pytest.approx(disk.recent.values[-1])
    etas = [e for e in (stored["eta_days"]["linear"], stored["eta_days"]["prophet"]) if e is not None]
    assert stored["eta_days"]["ensemble"] == (min(etas) if etas else None)
    assert stored["severity"] == grade(stored["eta_days"]["ensemble"])
    # the same points sent as fresh history: the same answer, from the request
    [fresh] = v1(disk_io_server, "disk-eta", {"node": node, "mountpoint": mount, "history": as_json(disk.recent)})
    assert fresh["source"] == "request"
    assert {**fresh, "source": "training-state"} == stored


def test_filling_disk_is_critical_with_eta_in_tolerance(disk_io_server, disk_state) -> None:
    _, state = disk_state
    (node, mount) = sorted(state.disks)[0]
    filling = ramp(70, 80)  # +5 %/day: 90 % in 2 days
    known, unknown = v1(
        disk_io_server,
        "disk-eta",
        {"node": node, "mountpoint": mount, "history": filling},
        {"node": "new-node", "mountpoint": "/data", "history": filling},
    )
    for p in (known, unknown):
        assert p["source"] == "request" and p["current_usage"] == pytest.approx(80)
        assert p["eta_days"]["linear"] == pytest.approx(2.0, abs=0.1)
        assert p["severity"] == "CRITICAL"
    assert 0 < known["eta_days"]["ensemble"] <= known["eta_days"]["linear"]  # the earlier of the two
    assert unknown["eta_days"] == {
        "linear": pytest.approx(2.0, abs=0.1),
        "prophet": None,
        "ensemble": pytest.approx(2.0, abs=0.1),
    }
    assert "linear trend only" in unknown["note"]


def test_shrinking_disk_never_fills(disk_io_server, disk_state) -> None:
    for node, mount in sorted(disk_state[1].disks):  # every known disk, whatever its training trend
        [known] = v1(disk_io_server, "disk-eta", {"node": node, "mountpoint": mount, "history": ramp(80, 70)})
        assert known["eta_days"] == {"linear": None, "prophet": None, "ensemble": None}, (node, mount, known)
        assert known["severity"] == "OK"
    [unknown] = v1(disk_io_server, "disk-eta", {"node": "new-node", "mountpoint": "/data", "history": ramp(80, 70)})
    assert unknown["eta_days"] == {"linear": None, "prophet": None, "ensemble": None}
    assert unknown["severity"] == "OK"


def test_under_50_points_says_no_model(disk_io_server, disk_state) -> None:
    node, mount = sorted(disk_state[1].disks)[0]
    short = ramp(70, 89, n=49)
    known, unknown, enough = v1(
        disk_io_server,
        "disk-eta",
        {"node": node, "mountpoint": mount, "history": short},
        {"node": "new-node", "mountpoint": "/", "history": short},
        {"node": "new-node", "mountpoint": "/", "history": ramp(60, 89, n=50)},
    )
    for p in (known, unknown):
        assert p["eta_days"] == {"linear": None, "prophet": None, "ensemble": None}
        assert p["severity"] == "OK" and "49 points" in p["reason"] and "50" in p["reason"]
        assert p["current_usage"] == pytest.approx(89)
    assert "reason" not in enough


def test_unknown_disk_without_history_is_4xx_naming_the_instance(disk_io_server, disk_state) -> None:
    node, mount = sorted(disk_state[1].disks)[0]
    status, error = v1_error(
        disk_io_server, "disk-eta", {"node": node, "mountpoint": mount}, {"node": "new-node", "mountpoint": "/data"}
    )
    assert 400 <= status < 500 and error.startswith("instances[1]") and "history" in error


@pytest.mark.parametrize(("bad", "at"), [(-0.5, 3), (100.5, 0), (250.0, 48)])
def test_usage_outside_percent_is_400_naming_the_entry(disk_io_server, bad, at) -> None:
    history = ramp(40, 50, n=60)
    history["values"][at] = bad
    status, error = v1_error(disk_io_server, "disk-eta", {"node": "n", "mountpoint": "/", "history": history})
    assert status == 400 and error.startswith(f"instances[0].history.values[{at}]"), error


# --- io-crisis V1 --------------------------------------------------------------------------------


def test_crisis_known_series_without_and_with_history(disk_io_server, crisis_state) -> None:
    version, state = crisis_state
    (node, signal), series = next((k, s) for k, s in sorted(state.series.items()) if s.prophet is not None)
    [stored] = v1(disk_io_server, "io-crisis", {"node": node, "signal": signal})
    assert set(stored) == CRISIS_KEYS, stored
    assert (stored["node"], stored["signal"], stored["source"]) == (node, signal, "training-state")
    assert stored["threshold"] == {"io_wait": 0.30, "net_rx": 9.5e8, "net_tx": 9.5e8}[signal]
    assert stored["model_version"] == version
    assert stored["crisis"] == (stored["days_to_crisis"] is not None)
    assert isinstance(stored["forecast_peak"], float)
    [fresh] = v1(disk_io_server, "io-crisis", {"node": node, "signal": signal, "history": as_json(series.recent)})
    assert fresh["source"] == "request"
    assert {**fresh, "source": "training-state"} == stored


def test_crisis_for_a_series_trending_past_its_threshold(disk_io_server, crisis_state) -> None:
    node = sorted(crisis_state[1].series)[0][0]
    known, unknown, flat_known, flat_unknown = v1(
        disk_io_server,
        "io-crisis",
        {"node": node, "signal": "net_tx", "history": ramp(2e8, 9e8)},
        {"node": "new-node", "signal": "io_wait", "history": ramp(0.05, 0.25)},
        {"node": node, "signal": "net_tx", "history": ramp(1e8, 1e8)},
        {"node": "new-node", "signal": "io_wait", "history": ramp(0.05, 0.05)},
    )
    for p in (known, unknown):
        assert p["crisis"] is True and 0 <= p["days_to_crisis"] <= 7, p
        assert p["forecast_peak"] >= p["threshold"]
    assert unknown["days_to_crisis"] == pytest.approx(0.5, abs=0.1)  # 0.1/day from 0.25 to 0.30
    assert "unknown" in unknown["note"]
    for p in (flat_known, flat_unknown):
        assert p["crisis"] is False and p["days_to_crisis"] is None and p["forecast_peak"] < p["threshold"], p


@pytest.mark.parametrize("signal", ["disk", "IO_WAIT", "", None, 3])
def test_unknown_signal_is_400(disk_io_server, signal) -> None:
    node = "prod-east-worker-0"
    status, error = v1_error(
        disk_io_server,
        "io-crisis",
        {"node": node, "signal": "io_wait", "history": ramp(0, 0.1)},
        {"node": node, "signal": signal},
    )
    assert status == 400 and error.startswith("instances[1].signal"), error


def test_crisis_too_few_points_and_unknown_node(disk_io_server) -> None:
    [short] = v1(disk_io_server, "io-crisis", {"node": "new-node", "signal": "net_rx", "history": ramp(1e9, 2e9, n=49)})
    assert short["crisis"] is False and short["days_to_crisis"] is None and "50" in short["reason"]
    status, error = v1_error(disk_io_server, "io-crisis", {"node": "new-node", "signal": "net_rx"})
    assert 400 <= status < 500 and error.startswith("instances[0]")


# --- V2 over REST and gRPC, against V1 -----------------------------------------------------------


def test_disk_v2_rest_and_grpc_match_v1(disk_io_server, disk_state) -> None:
    version, state = disk_state
    stored = v1(disk_io_server, "disk-eta", *[{"node": n, "mountpoint": m} for n, m in sorted(state.disks)])
    known = next((p["node"], p["mountpoint"]) for p in stored if p["eta_days"]["ensemble"] is not None)
    keys = [known, known, ("new-node", "/data"), ("new-node", "/data")]
    histories = [None, ramp(70, 80), ramp(80, 70), ramp(70, 89, n=40)]  # stored, filling, never, too few
    instances = [
        {"node": k[0], "mountpoint": k[1], **({"history": h} if h else {})}
        for k, h in zip(keys, histories, strict=True)
    ]
    expected = v1(disk_io_server, "disk-eta", *instances)
    etas = [p["eta_days"]["ensemble"] for p in expected]
    assert etas[0] is not None and etas[1] is not None and etas[2] is None and "reason" in expected[3]
    body = tensors(("node", "mountpoint"), keys, histories)

    rest = rest_v2(disk_io_server, "disk-eta", body)
    assert list(rest) == ["eta_days", "severity"]
    assert (rest["eta_days"]["datatype"], rest["eta_days"]["shape"]) == ("FP32", [4])
    assert (rest["severity"]["datatype"], rest["severity"]["shape"]) == ("BYTES", [4])
    assert rest["severity"]["data"] == [p["severity"] for p in expected]
    np.testing.assert_allclose(rest["eta_days"]["data"][:2], etas[:2], rtol=1e-5)
    assert rest["eta_days"]["data"][2:] == [None, None]  # JSON has no +inf (never) nor NaN (too few)

    reply_version, out = grpc_v2(disk_io_server, "disk-eta", body)
    assert reply_version == version
    datatype, shape, eta = out["eta_days"]
    assert (datatype, shape) == ("FP32", [4]) and out["severity"][:2] == ("BYTES", [4])
    assert out["severity"][2] == [p["severity"].encode() for p in expected]
    np.testing.assert_allclose(eta[:2], etas[:2], rtol=1e-5)
    assert eta[2] == math.inf and math.isnan(eta[3])


def test_crisis_v2_rest_and_grpc_match_v1(disk_io_server, crisis_state) -> None:
    version, state = crisis_state
    known = sorted(state.series)[0]
    keys = [known, (known[0], "net_tx"), ("new-node", "io_wait"), ("new-node", "io_wait"), ("new-node", "net_rx")]
    histories = [None, ramp(2e8, 9e8), ramp(0.05, 0.25), ramp(0.05, 0.05), ramp(1e8, 2e8, n=30)]
    instances = [
        {"node": k[0], "signal": k[1], **({"history": h} if h else {})} for k, h in zip(keys, histories, strict=True)
    ]
    expected = v1(disk_io_server, "io-crisis", *instances)
    crisis = [p["crisis"] for p in expected]
    days = [p["days_to_crisis"] for p in expected]
    assert crisis[1:] == [True, True, False, False] and "reason" in expected[4]
    body = tensors(("entity", "signal"), keys, histories)

    rest = rest_v2(disk_io_server, "io-crisis", body)
    assert {"crisis", "days_to_crisis"} <= set(rest)
    assert (rest["crisis"]["datatype"], rest["crisis"]["shape"], rest["crisis"]["data"]) == ("BOOL", [5], crisis)
    assert (rest["days_to_crisis"]["datatype"], rest["days_to_crisis"]["shape"]) == ("FP32", [5])
    got = rest["days_to_crisis"]["data"]
    assert [d is None for d in got] == [d is None for d in days]  # never and too few: null
    np.testing.assert_allclose([d for d in got if d is not None], [d for d in days if d is not None], rtol=1e-5)

    reply_version, out = grpc_v2(disk_io_server, "io-crisis", body)
    assert reply_version == version
    assert out["crisis"] == ("BOOL", [5], crisis)
    datatype, shape, grpc_days = out["days_to_crisis"]
    assert (datatype, shape) == ("FP32", [5])
    for got_day, want, too_few in zip(grpc_days, days, ["reason" in p for p in expected], strict=True):
        if too_few:
            assert math.isnan(got_day)
        elif want is None:
            assert got_day == math.inf
        else:
            assert got_day == pytest.approx(want, rel=1e-5)


# --- malformed histories: 400 naming the field, both models --------------------------------------

KEYS = {
    "disk-eta": {"node": "prod-east-worker-0", "mountpoint": "/"},
    "io-crisis": {"node": "prod-east-worker-0", "signal": "io_wait"},
}
TS = [END - 600, END - 300, END]
MALFORMED = [
    ({"timestamps": TS, "values": [0.1, 0.2]}, "history"),
    ({"timestamps": [END, END - 300, END + 300], "values": [0.1] * 3}, "history.timestamps[1]"),
    ({"timestamps": [END, END, END + 1], "values": [0.1] * 3}, "history.timestamps[1]"),
    (
        {"timestamps": ["2026-11-16T12:00:00Z", "yesterday", "2026-11-16T12:10:00Z"], "values": [0.1] * 3},
        "history.timestamps[1]",
    ),
    ({"timestamps": [END, None, END + 1], "values": [0.1] * 3}, "history.timestamps[1]"),
    ({"timestamps": TS, "values": [0.1, None, 0.1]}, "history.values[1]"),  # JSON's NaN
    ({"timestamps": TS, "values": [0.1, "NaN", 0.1]}, "history.values[1]"),
    ({"timestamps": TS, "values": [0.1, 0.2, [0.3]]}, "history.values[2]"),
    ({"timestamps": [], "values": []}, "history.values"),
    ({}, "history.timestamps"),
    ({"timestamps": TS}, "history.values"),
    ({"timestamps": "2026-11-16", "values": [0.1]}, "history.timestamps"),
    ({"timestamps": TS, "values": [0.1] * 3, "step": 300}, "history"),
    ([0.1, 0.2, 0.3], "history"),
]


@pytest.mark.parametrize("model", list(KEYS))
@pytest.mark.parametrize(("history", "field"), MALFORMED)
def test_v1_malformed_history_is_400_naming_the_field(disk_io_server, model, history, field) -> None:
    good = {**KEYS[model], "history": ramp(0.1, 0.2, n=60)}
    status, error = v1_error(disk_io_server, model, good, {**KEYS[model], "history": history})
    assert status == 400 and error.startswith(f"instances[1].{field}"), error


@pytest.mark.parametrize("model", list(KEYS))
def test_v1_literal_nan_is_400(disk_io_server, model) -> None:
    # NaN is not JSON: KServe's parser rejects the body before any field is read
    body = '{"instances": [{"node": "n", "history": {"timestamps": [1, 2], "values": [0.1, NaN]}}]}'
    r = disk_io_server.client.post(
        f"/v1/models/{model}:predict", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400


V2_NAMES = {"disk-eta": ("node", "mountpoint"), "io-crisis": ("entity", "signal")}


def _v2_malformed(model: str) -> list[tuple[list[dict[str, Any]], str]]:
    first, second = KEYS[model].values()
    key = (first, second)
    names = V2_NAMES[model]
    cases: list[tuple[list[dict[str, Any]], str]] = []

    def with_history(ts: list, vs: list) -> list[dict[str, Any]]:
        body = tensors(names, [key], [None])
        body[2] = {**body[2], "shape": [1, len(ts)], "data": ts}
        body[3] = {**body[3], "shape": [1, len(vs)], "data": vs}
        return body

    cases.append((with_history(TS, [0.1, 0.2]), "values"))  # length mismatch
    cases.append((with_history([END, END - 300, END + 300], [0.1] * 3), "timestamps[0][1]"))
    cases.append((with_history([END, END, END + 1], [0.1] * 3), "timestamps[0][1]"))
    cases.append((with_history(["2026-11-16T12:00:00Z"] * 3, [0.1] * 3), "inputs.timestamps"))
    cases.append((with_history(TS, [0.1, "NaN?", 0.1]), "inputs.values"))
    cases.append((with_history(TS, [0.1, 1e39, 0.1]), "values[0][1]"))  # FP32 overflow = inf
    body = tensors(names, [key, key], [None, None])
    cases.append((body[:1] + [{**body[1], "shape": [1], "data": body[1]["data"][:1]}] + body[2:], names[1]))
    cases.append((tensors(names, [key], [None])[:3], "inputs.values"))
    return cases


@pytest.mark.parametrize("model", list(KEYS))
def test_v2_malformed_history_is_400_over_rest_and_invalid_argument_over_grpc(disk_io_server, model) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{disk_io_server.grpc_port}") as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        for body, field in _v2_malformed(model):
            r = disk_io_server.client.post(f"/v2/models/{model}/infer", json={"inputs": body})
            assert r.status_code == 400 and r.json()["error"].startswith(field), (field, r.text)
            if field.startswith("inputs."):
                continue  # JSON-only: strings where numbers belong cannot be said over gRPC
            with pytest.raises(grpc.RpcError) as err:
                stub.ModelInfer(grpc_request(model, body), timeout=20)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in err.value.details()


def test_v2_out_of_range_values_and_unknown_signal(disk_io_server) -> None:
    disk = tensors(V2_NAMES["disk-eta"], [("n", "/")], [ramp(95, 101, n=60)])
    r = disk_io_server.client.post("/v2/models/disk-eta/infer", json={"inputs": disk})
    assert r.status_code == 400 and r.json()["error"].startswith("values[0][")
    io = tensors(V2_NAMES["io-crisis"], [("n", "disk")], [ramp(0.1, 0.2, n=60)])
    r = disk_io_server.client.post("/v2/models/io-crisis/infer", json={"inputs": io})
    assert r.status_code == 400 and r.json()["error"].startswith("signal[0]")


@pytest.mark.parametrize("step", [300, 0.001])
def test_crisis_values_near_float_max_are_refused_or_answered_consistently(disk_io_server, step) -> None:
    history = {
        "timestamps": [END - step * (99 - i) for i in range(100)],
        "values": np.linspace(0.85e308, 1.7e308, 100).tolist(),
    }
    r = disk_io_server.client.post(
        "/v1/models/io-crisis:predict",
        json={"instances": [{"node": "new-node", "signal": "net_rx", "history": history}]},
    )
    if r.status_code == 400:
        assert r.json()["error"].startswith("instances[0].history.values")
        return
    [p] = r.json()["predictions"]
    assert p["crisis"] is True and p["days_to_crisis"] is not None and 0 <= p["days_to_crisis"] <= 7, p
    assert isinstance(p["forecast_peak"], float), p
