"""anomaly-detector vs a no-op KServe model and the stock scikit-learn way, in one run.

Prints single-row V1 throughput and latency at 8 keep-alive clients (wrk) for the three
models, repeated and interleaved (medians), the ratio to the no-op, and the model time
for 10,000 rows in one request. The anomaly-detector runs twice, with drift monitoring
(the default) and without (DRIFT_WINDOW=0), while /metrics is scraped every 5 s as
Prometheus would (each scrape drains the queued requests into the drift window), and the
cost of monitoring is printed as their ratios.

Run: ``.venv/bin/python -m bench.serving_anomaly [--models DIR] [--seconds 8] [--rounds 3]``
(quick: ``--seconds 3 --rounds 3``)
(trains the demo anomaly-detector into a temp dir when --models is not given).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from bench.common import free_port, median_of, python, start, stop, wrk, wrk_with_cpu
from metrics_ai.artifacts import ModelStore
from metrics_ai.families import FAMILIES
from metrics_ai.families.anomaly import AnomalyPredictor
from serving.codec import codec_for

ROW = [0.5, 0.6, 0.4, 100, 80]


def model_time_10k(root: Path, repeats: int = 15) -> dict[str, float]:
    """Median ms for the full V1 answer (the codec's, as served) and score() on 10,000 consecutive rows."""
    manifest, folder = ModelStore(root, "anomaly-detector").verify()
    predictor = AnomalyPredictor.load(folder, manifest)
    codec = codec_for(FAMILIES["anomaly-detector"], predictor)
    rng = np.random.default_rng(0)
    rows = rng.normal(ROW, np.abs(ROW) * 0.1, size=(10_000, 5))
    as_lists = rows.tolist()
    score, full = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        predictor.score(rows)
        score.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        codec.v1(as_lists)
        full.append((time.perf_counter() - t) * 1e3)
    return {"score_ms": statistics.median(score), "predict_v1_ms": statistics.median(full)}


def main() -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--model-time-only", action="store_true", help="only the 10,000-row model time")
    parser.add_argument("--hot-path-only", action="store_true", help="only the in-process drift on/off CPU per request")
    args = parser.parse_args()
    root = args.models
    if root is None:
        root = Path(tempfile.mkdtemp()) / "models"
        subprocess.run([python(), "-m", "training", "run", "--out", str(root), "--models", "anomaly-detector"],
                       check=True, capture_output=True)
    if args.model_time_only:
        print_model_time(root)
        return
    if args.hot_path_only:
        print_hot_path(root)
        return
    ours_port, off_port, base_port = free_port(), free_port(), free_port()
    ours, _ = start([python(), "-m", "serving", "--model-dir", str(root), "--models", "anomaly-detector",
                     "--http-port", str(ours_port), "--grpc-port", str(free_port())],
                    f"http://127.0.0.1:{ours_port}", "/v1/models/anomaly-detector")
    off, _ = start([python(), "-m", "serving", "--model-dir", str(root), "--models", "anomaly-detector",
                    "--http-port", str(off_port), "--grpc-port", str(free_port())],
                   f"http://127.0.0.1:{off_port}", "/v1/models/anomaly-detector", env={"METRICS_AI_DRIFT_WINDOW": "0"})
    base, _ = start([python(), "bench/baselines.py", "--port", str(base_port),
                     "--model-pkl", str(root / "anomaly-detector" / "model.pkl")],
                    f"http://127.0.0.1:{base_port}", "/v1/models/noop")
    targets = {
        "noop (kserve.Model)": (f"http://127.0.0.1:{base_port}/v1/models/noop:predict", base.pid),
        "stock sklearn IsolationForest": (f"http://127.0.0.1:{base_port}/v1/models/sklearn-iforest:predict", base.pid),
        "metrics-ai anomaly-detector": (f"http://127.0.0.1:{ours_port}/v1/models/anomaly-detector:predict", ours.pid),
        "  same, drift monitoring off": (f"http://127.0.0.1:{off_port}/v1/models/anomaly-detector:predict", off.pid),
    }
    scrapes = threading.Event()
    scraper = threading.Thread(target=scrape, args=([ours_port, off_port], scrapes), daemon=True)
    scraper.start()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    try:
        for url, _ in targets.values():  # warm up
            wrk(url, {"instances": [ROW]}, args.connections, 1)
        for _ in range(args.rounds):
            for name, (url, pid) in targets.items():
                runs[name].append(wrk_with_cpu(url, {"instances": [ROW]}, args.connections, args.seconds, pid))
    finally:
        scrapes.set()
        stop(ours)
        stop(off)
        stop(base)
    noop = median_of(runs["noop (kserve.Model)"])
    print(f"single-row V1, {args.connections} keep-alive clients, {args.rounds} x {args.seconds:g} s (medians)")
    print("req/s and latency depend on what else the machine runs; server CPU per request does not,")
    print("so 'capacity' (no-op CPU/request over this CPU/request) is the busy-machine-proof ratio.")
    print(f"{'model':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs no-op':>9} "
          f"{'CPU ms/req':>11} {'capacity':>9}")
    for name in targets:
        m = median_of(runs[name])
        print(f"{name:34} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['errors']:7.0f} "
              f"{m['rps'] / noop['rps']:9.0%} {m['cpu_ms_per_req']:11.3f} "
              f"{noop['cpu_ms_per_req'] / m['cpu_ms_per_req']:9.0%}")
    pairs = list(zip(runs["metrics-ai anomaly-detector"], runs["  same, drift monitoring off"], strict=True))
    rps = [on["rps"] / off["rps"] for on, off in pairs]  # on and off ran back to back in each round
    cpu = [on["cpu_ms_per_req"] / off["cpu_ms_per_req"] for on, off in pairs]
    print(f"drift monitoring on / off, median of {len(pairs)} back-to-back rounds: req/s {statistics.median(rps):.3f} "
          f"(rounds {min(rps):.2f}-{max(rps):.2f}), CPU ms/req {statistics.median(cpu):.3f} "
          f"(rounds {min(cpu):.2f}-{max(cpu):.2f}); goal: req/s >= 0.95")
    print_hot_path(root)
    print_model_time(root)


def scrape(ports: list[int], done: threading.Event, every: float = 5.0) -> None:
    """GET /metrics of each predictor every ``every`` s until ``done`` (as Prometheus does)."""
    while not done.wait(every):
        for port in ports:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)


def hot_path_cpu(root: Path, rounds: int = 21, calls: int = 10_000) -> dict[str, list[float]]:
    """CPU microseconds per single-row V1 ``ServedModel.predict`` (adapter + model, no HTTP), drift
    monitoring on and off, interleaved; each round ends with a scrape (the drain of the queue).

    Process CPU time, not wall time: other processes on a shared machine barely move it.
    """
    import asyncio
    import gc

    from prometheus_client import CollectorRegistry

    from serving.metrics import ServingMetrics
    from serving.model import ServedModel

    models = {}
    for name, window in (("on", 10_000), ("off", 0)):
        metrics = ServingMetrics(CollectorRegistry(), drift_window=window)
        model = ServedModel(FAMILIES["anomaly-detector"], ModelStore(root, "anomaly-detector"), metrics)
        model.refresh()
        models[name] = model
    gc.collect()
    gc.freeze()  # as the predictor process does after loading

    async def per_call(model: ServedModel) -> float:
        headers = {"content-length": "40"}
        start = time.process_time()
        for _ in range(calls):
            await model.predict({"instances": [list(ROW)]}, headers)
        used = time.process_time() - start
        list(model.metrics.drift.collect())  # a scrape
        return used / calls * 1e6

    async def run() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {name: [] for name in models}
        for i in range(rounds):
            for name in ("on", "off") if i % 2 else ("off", "on"):  # neither always goes first
                out[name].append(await per_call(models[name]))
        return out

    return asyncio.run(run())


def print_hot_path(root: Path) -> None:
    """Print :func:`hot_path_cpu`'s medians and the on/off ratio."""
    t = hot_path_cpu(root)
    on, off = statistics.median(t["on"]), statistics.median(t["off"])
    ratios = [a / b for a, b in zip(t["on"], t["off"], strict=True)]
    print(f"single-row V1 in process (adapter + model, no HTTP), CPU us/request, median of {len(ratios)} rounds: "
          f"drift on {on:.1f}, off {off:.1f}, on/off {on / off:.3f} (per round {statistics.median(ratios):.3f}, "
          f"{min(ratios):.2f}-{max(ratios):.2f})")


def print_model_time(root: Path) -> None:
    """Print :func:`model_time_10k`'s figures."""
    t = model_time_10k(root)
    print(f"10,000 rows in one request, model time (median of 15): score {t['score_ms']:.1f} ms, "
          f"full V1 answer {t['predict_v1_ms']:.1f} ms (goal < 50 ms)")


if __name__ == "__main__":
    main()
