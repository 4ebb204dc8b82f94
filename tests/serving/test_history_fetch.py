"""Issue 18, findings 3 and 8: history fetched from Prometheus off the event loop, only for
entities the model knows, and no PromQL, upstream URL or upstream answer in error bodies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.families.disk_eta import DiskEtaPredictor
from tests.conftest import Predictor
from tests.fake_prometheus import FakePrometheus, Request
from tests.serving.conftest import DISK_IO
from tests.serving.disk_io import ramp
from tests.serving.test_heavy_requests import pool_requests, wait_for

UPSTREAM_SECRET = "upstream-detail-7f3a"


class Upstream:
    """A Prometheus stand-in the test switches: ``slow`` (no answer), ``refuse`` (400) or ``delay`` (1 s, empty)."""

    def __init__(self) -> None:
        self.mode = "slow"
        self.fake = FakePrometheus(self.respond)

    def respond(self, request: Request, stopping: threading.Event) -> tuple[int, dict[str, Any]]:
        if self.mode in ("slow", "delay"):
            stopping.wait(60 if self.mode == "slow" else 1)
            return 200, {"status": "success", "data": {"resultType": "matrix", "result": []}}
        return 400, {"status": "error", "errorType": "bad_data", "error": UPSTREAM_SECRET}


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    stand_in = Upstream()
    with stand_in.fake:
        yield stand_in


@pytest.fixture(scope="module")
def server(disk_io_models: Path, upstream: Upstream) -> Iterator[Predictor]:
    env = {
        "PROMETHEUS_URL": upstream.fake.url,
        "METRICS_AI_PROMETHEUS_FETCH_TIMEOUT": "4",
        "METRICS_AI_PROMETHEUS_FETCH_BUDGET": "1.5",
    }
    predictor = Predictor(disk_io_models, ",".join(DISK_IO), env=env)
    try:
        predictor.wait_live()
        wait_for(lambda: predictor.client.get("/v2/health/ready").status_code == 200, timeout=60)
        yield predictor
    finally:
        predictor.stop()


@pytest.fixture(scope="module")
def known_disks(disk_io_models: Path) -> list[dict[str, str]]:
    manifest, folder = ModelStore(disk_io_models, "disk-eta").verify()
    disks = sorted(DiskEtaPredictor.load(folder, manifest).disks)
    return [{"cluster": c, "node": n, "mountpoint": m} if c else {"node": n, "mountpoint": m} for c, n, m in disks]


@pytest.fixture(scope="module")
def known_disk(known_disks: list[dict[str, str]]) -> dict[str, str]:
    return known_disks[0]


def _no_leak(text: str, upstream: Upstream) -> None:
    assert upstream.fake.url not in text and "127.0.0.1" not in text
    error = httpx.Response(200, content=text).json()["error"]
    assert UPSTREAM_SECRET not in error and "label_replace" not in error and "node_" not in error


def test_slow_prometheus_does_not_block_liveness(server, upstream: Upstream, known_disk) -> None:
    upstream.mode = "slow"
    answer: dict[str, httpx.Response] = {}

    def send() -> None:
        answer["r"] = httpx.post(
            f"{server.url}/v1/models/disk-eta:predict", json={"instances": [known_disk]}, timeout=60
        )

    thread = threading.Thread(target=send)
    thread.start()
    try:
        wait_for(lambda: pool_requests(server) >= 1, timeout=30)
        live = server.client.get("/v2/health/live")
        # a small request that brings its history is answered meanwhile
        inline = server.client.post(
            "/v1/models/disk-eta:predict", json={"instances": [{**known_disk, "history": ramp(40, 60)}]}
        )
        still_waiting = thread.is_alive()
    finally:
        thread.join()
    assert live.status_code == 200 and still_waiting
    assert inline.status_code == 200, inline.text
    assert answer["r"].status_code == 504, answer["r"].text
    assert "disk_used_pct" in answer["r"].json()["error"]
    _no_leak(answer["r"].text, upstream)


def test_refused_query_is_503_without_upstream_details(server, upstream: Upstream, known_disk) -> None:
    upstream.mode = "refuse"
    r = server.client.post(
        "/v1/models/io-crisis:predict", json={"instances": [{"node": known_disk["node"], "signal": "io_wait"}]}
    )
    assert r.status_code == 503, r.text
    _no_leak(r.text, upstream)
    assert UPSTREAM_SECRET in server.log.read_text()  # the operator still sees it


def test_unknown_entity_without_history_queries_nothing(server, upstream: Upstream) -> None:
    upstream.mode = "refuse"
    before = len(upstream.fake.requests)
    for i in range(3):
        r = server.client.post(
            "/v1/models/disk-eta:predict",
            json={"instances": [{"node": f"invented-{i}-{time.time()}", "mountpoint": "/"}]},
        )
        assert r.status_code == 404, r.text
        assert r.json()["error"].startswith("instances[0]") and "history" in r.json()["error"]
    r = server.client.post(
        "/v1/models/io-crisis:predict", json={"instances": [{"node": "invented", "signal": "io_wait"}]}
    )
    assert r.status_code == 404, r.text
    assert len(upstream.fake.requests) == before


def test_one_request_starts_fetches_only_within_its_budget(server, upstream: Upstream, known_disks) -> None:
    upstream.mode = "delay"  # each fetch takes 1 s; the budget is 1.5 s
    disks = known_disks[:6]
    assert len(disks) >= 3
    before = len(upstream.fake.requests)
    r = server.client.post("/v1/models/disk-eta:predict", json={"instances": disks})
    assert r.status_code == 200, r.text
    assert [p["source"] for p in r.json()["predictions"]] == ["training-state"] * len(disks)
    fetched = len(upstream.fake.requests) - before
    assert 1 <= fetched <= 2 < len(disks), fetched
