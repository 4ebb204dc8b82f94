"""Issue 18's probe as a measurement: liveness latency and peak memory under hostile requests.

Starts the predictor on published models (default limits unless overridden by the
environment) and, in turn:

- the 1,000,000-row anomaly-detector request (24 MB): status and seconds to the answer;
- the largest accepted requests (``tests/serving/test_heavy_requests.py``'s, near
  MAX_BODY_BYTES) from more clients than the worker pool holds, while one client polls
  ``/v2/health/live`` every 50 ms: median and worst liveness latency;
- the process's peak resident memory (VmHWM) against the chart's 1 GiB limit.

    .venv/bin/python -m bench.hostile --models DIR [--rounds 3]

DIR must hold disk-eta and anomaly-detector (e.g. ``python -m training run --profile tiny``).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

from bench.common import free_port, load_average, machine, python, start, stop
from metrics_ai.settings import load_settings
from tests.serving.test_heavy_requests import ROW, _largest_requests, peak_rss

JSON = {"content-type": "application/json"}


def poll_live(url: str, stop_event: threading.Event, out: list[float]) -> None:
    """Seconds each ``/v2/health/live`` took, every 50 ms until stopped."""
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop_event.is_set():
            t0 = time.perf_counter()
            assert client.get("/v2/health/live").status_code == 200
            out.append(time.perf_counter() - t0)
            stop_event.wait(0.05)


def one_round(url: str, clients: int) -> tuple[float, float, dict[int, int]]:
    """(median, worst) liveness seconds and the status counts while the largest requests run."""
    requests = _largest_requests()
    latencies: list[float] = []
    done = threading.Event()
    poller = threading.Thread(target=poll_live, args=(url, done, latencies))
    poller.start()

    def send(i: int) -> int:
        path, body = requests[i % len(requests)]
        return httpx.post(url + path, content=body, headers=JSON, timeout=600).status_code

    try:
        with ThreadPoolExecutor(clients) as pool:
            statuses = list(pool.map(send, range(2 * clients)))
    finally:
        done.set()
        poller.join()
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    return statistics.median(latencies), max(latencies), counts


def main() -> None:
    """Run the probe and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    print(f"machine: {machine()}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [python(), "-m", "serving", "--model-dir", str(args.models), "--models", "anomaly-detector,disk-eta",
           "--http-port", str(port), "--grpc-port", str(free_port())]  # fmt: skip
    proc, _ = start(cmd, url, "/v2/health/ready", env={"PROMETHEUS_URL": "", "METRICS_AI_PROMETHEUS_URL": ""})
    try:
        big = orjson.dumps({"instances": [ROW] * 1_000_000})
        t0 = time.perf_counter()
        r = httpx.post(url + "/v1/models/anomaly-detector:predict", content=big, headers=JSON, timeout=600)
        print(f"1,000,000-row request ({len(big) / 1e6:.0f} MB): HTTP {r.status_code} in "
              f"{time.perf_counter() - t0:.2f} s: {r.text[:120]}")  # fmt: skip
        clients = settings.predict_workers + settings.predict_queue + 2
        rounds = [one_round(url, clients) for _ in range(args.rounds)]
        for i, (median, worst, counts) in enumerate(rounds, 1):
            print(f"round {i}: {2 * clients} largest accepted requests from {clients} clients: statuses {counts}; "
                  f"/v2/health/live median {median * 1000:.1f} ms, worst {worst * 1000:.0f} ms")  # fmt: skip
        worst = statistics.median(w for _, w, _ in rounds)
        peak = peak_rss(proc.pid)
        print(f"median over rounds of the worst liveness latency: {worst * 1000:.0f} ms (budget 1000 ms)")
        print(f"peak RSS {peak / 2**20:.0f} MiB (chart limit 1024 MiB); {load_average()}")
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
