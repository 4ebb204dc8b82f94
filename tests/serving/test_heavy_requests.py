"""Issue 18, finding 2: a heavy request runs off the event loop, and the largest accepted requests
fit the chart's 1 GiB memory limit.

Ordering, not timing: liveness is asked while the heavy request is known to be running
(the worker-pool gauge says so) and must answer before that request finishes.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

from metrics_ai.artifacts import ModelStore
from metrics_ai.settings import Settings
from tests.serving.conftest import DISK_IO, NO_PROMETHEUS
from tests.serving.disk_io import END

ROW = [0.5, 0.6, 0.4, 100, 80]
POOL_GAUGE = "metrics_ai_worker_pool_requests"
CHART_MEMORY_LIMIT = 1 << 30  # charts/metrics-ai/values.yaml predictor.resources.limits.memory
DEFAULTS = Settings()
JSON = {"content-type": "application/json"}


def pool_requests(server) -> float:
    """The predictor's worker-pool gauge (requests running or waiting)."""
    for line in server.client.get("/metrics").text.splitlines():
        if line.startswith(POOL_GAUGE + " "):
            return float(line.split()[1])
    raise AssertionError(f"{POOL_GAUGE} not exported")


def wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def peak_rss(pid: int) -> int:
    """Peak resident set size of a process in bytes (what a memory cgroup limits)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_liveness_and_other_models_answer_while_a_heavy_request_runs(basic_models: Path, start_predictor) -> None:
    n = 200_000  # the 1,000,000-row request, scaled to keep the test short
    server = start_predictor(
        basic_models, env={"METRICS_AI_MAX_INSTANCES": str(n), "METRICS_AI_MAX_BODY_BYTES": str(64 << 20)}
    )
    assert server.client.post("/v1/models/anomaly-detector:predict", json={"instances": [ROW]}).status_code == 200
    cluster = ModelStore(basic_models, "node-outliers").current().entities[0]
    outliers_row = {"cluster": cluster, "node": "n0", "host_cpu": 0.3, "host_mem": 0.5, "pod_cpu": 0.25, "pod_mem": 0.4}
    body = orjson.dumps({"instances": [ROW] * n})
    heavy: dict[str, Any] = {}

    def send() -> None:
        heavy["response"] = httpx.post(
            f"{server.url}/v1/models/anomaly-detector:predict", content=body, headers=JSON, timeout=600
        )

    thread = threading.Thread(target=send)
    thread.start()
    try:
        wait_for(lambda: pool_requests(server) >= 1)  # /metrics answers while it runs
        live = server.client.get("/v2/health/live")
        other = server.client.post("/v1/models/node-outliers:predict", json={"instances": [outliers_row]})
        still_running = thread.is_alive()
    finally:
        thread.join()
    assert live.status_code == 200 and live.json() == {"live": True}
    assert other.status_code == 200, other.text
    assert still_running, "the heavy request finished before liveness was asked"
    assert heavy["response"].status_code == 200
    assert len(heavy["response"].json()["predictions"]) == n


def _largest_requests() -> list[tuple[str, bytes]]:
    """Requests at (just under) the default limits, each near MAX_BODY_BYTES."""
    limit = DEFAULTS.max_body_bytes
    points = DEFAULTS.max_history_points - 1
    history = {"timestamps": [END - (points - 1 - i) * 60 for i in range(points)], "values": [50.5] * points}
    instances: list[dict[str, Any]] = []
    body = b""
    while True:
        more = [*instances, {"node": f"new-node-{len(instances)}", "mountpoint": "/data", "history": history}]
        candidate = orjson.dumps({"instances": more})
        if len(candidate) > limit:
            break
        instances, body = more, candidate
    v1 = ("/v1/models/disk-eta:predict", body)
    # V2 with as many (cheap to send, costly to parse) elements as the limit allows; the shape
    # check answers 400 after the body has been parsed: the parse is what costs memory
    count = (limit - 200) // 2
    head = b'{"inputs":[{"name":"values","shape":[1,5],"datatype":"FP32","data":['
    zeros = head + b",".join([b"0"] * count) + b"]}]}"
    v2 = ("/v2/models/disk-eta/infer", zeros)
    assert len(instances) >= 2 and len(body) <= limit and len(zeros) <= limit
    return [v1, v2]


def test_the_largest_accepted_requests_fit_the_chart_memory_limit(
    tmp_path: Path, disk_io_models: Path, start_predictor
) -> None:
    server = start_predictor(disk_io_models, ",".join(DISK_IO), env=NO_PROMETHEUS)
    wait_for(lambda: server.client.get("/v2/health/ready").status_code == 200, timeout=60)
    requests = _largest_requests()
    concurrent = DEFAULTS.predict_workers + DEFAULTS.predict_queue + 2  # the pool's capacity, and more

    def send(i: int) -> int:
        path, body = requests[i % len(requests)]
        return httpx.post(f"{server.url}{path}", content=body, headers=JSON, timeout=600).status_code

    with ThreadPoolExecutor(concurrent) as clients:
        statuses = list(clients.map(send, range(2 * concurrent)))
    assert set(statuses) <= {200, 400, 503}, statuses
    assert 200 in statuses and 400 in statuses
    assert server.alive()
    peak = peak_rss(server.proc.pid)
    assert peak < CHART_MEMORY_LIMIT, f"peak RSS {peak / 2**20:.0f} MiB"
