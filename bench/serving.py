"""Serving benchmark: every served model beside a no-op KServe model and the stock sklearn way.

One predictor process serves all five models; a second process serves the baselines
(``bench/baselines.py``: a no-op ``kserve.Model`` and the anomaly-detector's forest
served as KServe's sklearn server does). For each model, V1 and V2 (REST JSON),
a single instance and a batch of ``--batch`` instances, at 1, 8 and 32 keep-alive
clients (wrk, one thread; batches at 1 and 8 unless ``--batch-clients 1,8,32``), in
interleaved rounds; prints medians over the rounds and
each figure's ratio to the no-op under the same protocol, batch and clients.

Also: cold start (process start to all five models ready, median of 3 starts; goal
< 5 s), whether the serving code path imports TensorFlow / Keras / Prophet /
statsmodels, the anomaly-detector's 10,000-row model time (goal < 50 ms) and the
resource-forecast model time for one entity with 1 day of 1-minute history (goal
p50 < 20 ms).

    .venv/bin/python -m bench.serving [--models DIR] [--quick] [--json OUT] [--plots DIR]

Without ``--models`` the demo profile is trained into a temporary folder first
(LSTM_EPOCHS=1: request cost does not depend on epochs; ``--quick``: tiny profile).
Needs wrk (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import payloads
from bench.common import (
    cpu_seconds,
    free_port,
    load_average,
    machine,
    median_of,
    python,
    require_wrk,
    start,
    stop,
    wrk_with_cpu,
)
from bench.plots import throughput_plot
from metrics_ai.families import MODEL_NAMES

HEAVY = ("tensorflow", "keras", "prophet", "statsmodels", "cmdstanpy", "torch")
IMPORT_CHECK = """
import sys
from pathlib import Path
import serving.cli, serving.server
from prometheus_client import CollectorRegistry
from metrics_ai.settings import load_settings
from serving.metrics import ServingMetrics
from serving.server import build_models, discover_models
root = Path(sys.argv[1])
models = build_models(root, discover_models(root, "all"), load_settings(), ServingMetrics(CollectorRegistry()))
assert all(m.ready for m in models), [(m.name, m.last_error) for m in models]
import json
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))))
"""


def train(root: Path, quick: bool) -> float:
    """Train the demo (quick: tiny) profile into ``root``; seconds."""
    t0 = time.perf_counter()
    env = {**os.environ, "LSTM_EPOCHS": "1"}
    cmd = [python(), "-m", "training", "run", "--out", str(root), "--profile", "tiny" if quick else "demo"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"training failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


def serve_cmd(root: Path, port: int) -> list[str]:
    """The predictor, all five models."""
    return [python(), "-m", "serving", "--model-dir", str(root), "--http-port", str(port),
            "--grpc-port", str(free_port())]


def cold_start(root: Path) -> tuple[float, float]:
    """Seconds from process start until every model answers ``ready: true``, and the CPU seconds
    the process used by then (what an idle machine would need, roughly: busy neighbours inflate
    the first figure, not the second)."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(serve_cmd(root, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waiting = set(MODEL_NAMES)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            while waiting and time.perf_counter() - t0 < 120:
                if proc.poll() is not None:
                    raise RuntimeError(f"predictor exited with {proc.returncode}")
                waiting -= {name for name in sorted(waiting) if is_ready(client, name)}
                if waiting:
                    time.sleep(0.02)
        if waiting:
            raise RuntimeError(f"not ready after 120 s: {sorted(waiting)}")
        return time.perf_counter() - t0, cpu_seconds(proc.pid)
    finally:
        stop(proc)  # type: ignore[arg-type]


def is_ready(client: httpx.Client, name: str) -> bool:
    """``GET /v1/models/<name>`` answers ``ready: true`` (False while the port is not open yet)."""
    try:
        answer = client.get(f"/v1/models/{name}")
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and bool(answer.json().get("ready"))


def heavy_imports(root: Path) -> list[str]:
    """Heavy libraries in ``sys.modules`` after the serving code loaded every model."""
    done = subprocess.run([python(), "-c", IMPORT_CHECK, str(root), ",".join(HEAVY)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def targets(root: Path, ours: str, base: str, n: int, pids: tuple[int, int]) -> list[dict[str, Any]]:
    """Every (model, protocol, size) with its URL, body and server pid; baselines first."""
    rows = [[0.5, 0.6, 0.4, 100.0, 80.0]]
    out: list[dict[str, Any]] = []
    for name in ("noop", "sklearn-iforest"):
        for size, instances in (("1", rows), (str(n), rows * n)):
            out.append({"model": name, "proto": "V1", "size": size, "url": f"{base}/v1/models/{name}:predict",
                        "body": payloads.v1_body(instances)})
            out.append({"model": name, "proto": "V2", "size": size, "url": f"{base}/v2/models/{name}/infer",
                        "body": payloads.v2_body("anomaly-detector", instances)})
    for model in MODEL_NAMES:
        smoke = payloads.smoke_instances(root, model)
        for size, instances in (("1", payloads.single(smoke)), (str(n), payloads.batch(smoke, n))):
            out.append({"model": model, "proto": "V1", "size": size, "url": f"{ours}/v1/models/{model}:predict",
                        "body": payloads.v1_body(instances)})
            out.append({"model": model, "proto": "V2", "size": size, "url": f"{ours}/v2/models/{model}/infer",
                        "body": payloads.v2_body(model, instances)})
    out.append({"model": "resource-forecast", "proto": "V1", "size": "1 (1 d)",
                "url": f"{ours}/v1/models/resource-forecast:predict", "body": payloads.v1_body(day_instance(root))})
    for t in out:
        t["bytes"] = json.dumps(t["body"]).encode()
        t["pid"] = pids[0] if t["url"].startswith(ours) else pids[1]
        t["single"] = not t["size"].isdigit() or t["size"] == "1"
    return out


def day_instance(root: Path) -> list[dict[str, Any]]:
    """One known entity with 1 day of 1-minute history as RFC 3339 strings (the latency budget's case)."""
    from bench.forecast_latency import instances, loaded_predictor

    return instances(loaded_predictor(root), 2, strings=True)[1:]


def check(target: dict[str, Any]) -> None:
    """One request must answer 200 (a benchmark of error answers measures nothing)."""
    answer = httpx.post(target["url"], content=target["bytes"], headers={"content-type": "application/json"},
                        timeout=60)
    if answer.status_code != 200:
        raise SystemExit(f"{target['model']} {target['proto']} x{target['size']}: {answer.status_code} "
                         f"{answer.text[:500]}")


def measure(all_targets: list[dict[str, Any]], clients: dict[bool, tuple[int, ...]], rounds: int, seconds: float,
            cap: float) -> dict[tuple[str, str, str, int], dict[str, float]]:
    """Interleaved rounds of every (target, clients); per-key medians.

    ``clients[True]`` are the client counts for single-instance targets, ``clients[False]``
    for batches. A run lasts ``seconds``, or longer for slow requests under several
    clients (3 x the single-client p50 x clients, at most ``cap``) so that enough of them
    complete; after each run the server is drained (a health call answers only once the
    requests still queued from the run are done) so that no run pays for the previous
    one's backlog.
    """
    runs: dict[tuple[str, str, str, int], list[dict[str, float]]] = {}
    for r in range(rounds):
        for c in sorted(set(clients[True]) | set(clients[False])):
            for t in all_targets:
                if c not in clients[t["single"]]:
                    continue
                key = (t["model"], t["proto"], t["size"], c)
                alone = runs.get((*key[:3], 1))
                secs = seconds if not alone else min(cap, max(seconds, 3 * alone[-1]["p50_ms"] / 1e3 * c))
                runs.setdefault(key, []).append(wrk_with_cpu(t["url"], t["bytes"], c, round(secs), t["pid"]))
                httpx.get(t["url"].split("/v", 1)[0] + "/v2/health/live", timeout=300)
        print(f"  round {r + 1}/{rounds} done; {load_average()}", flush=True)
    return {k: median_of(v) for k, v in runs.items()}


def table(results: dict[tuple[str, str, str, int], dict[str, float]], batch: int) -> list[str]:
    """The printed table: one line per (model, protocol, size, clients), ratios to the no-op."""
    head = (f"{'model':18} {'proto':5} {'batch':>7} {'clients':>7} {'req/s':>8} {'inst/s':>9} "
            f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'vs no-op':>8} {'CPU ms':>8} {'capacity':>8}")
    lines = [head, "-" * len(head)]
    for (model, proto, size, c), m in results.items():
        noop = results.get(("noop", proto, size if size in ("1", str(batch)) else "1", c))
        n = batch if size == str(batch) else 1
        ratio = f"{m['rps'] / noop['rps']:8.0%}" if noop and noop["rps"] else f"{'-':>8}"
        cpu = m.get("cpu_ms_per_req", float("nan"))
        capacity = f"{noop['cpu_ms_per_req'] / cpu:8.0%}" if noop and cpu > 0 else f"{'-':>8}"
        lines.append(f"{model:18} {proto:5} {size:>7} {c:7d} {m['rps']:8.0f} {m['rps'] * n:9.0f} "
                     f"{m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['errors']:6.0f} {ratio} {cpu:8.3f} {capacity}")
    return lines


def model_times(root: Path) -> list[str]:
    """In-process model time of the two budgets that are about the model, not HTTP."""
    from bench.forecast_latency import instances, loaded_predictor
    from bench.forecast_latency import measure as forecast_measure
    from bench.serving_anomaly import model_time_10k

    t = model_time_10k(root)
    predictor = loaded_predictor(root)
    day = forecast_measure(predictor, instances(predictor, 2, strings=True)[1:], 100)
    return [
        f"anomaly-detector, 10,000 rows in one request, model time (median of 15): score {t['score_ms']:.1f} ms, "
        f"full V1 answer {t['predict_v1_ms']:.1f} ms (goal < 50 ms)",
        f"resource-forecast, 1 entity with 1 d of 1-min history (RFC 3339), model time p50 "
        f"{statistics.median(day) * 1e3:.2f} ms over 100 calls (goal < 20 ms)",
    ]


def parse_clients(spec: str) -> tuple[int, ...]:
    """``"1,8,32"`` -> (1, 8, 32)."""
    return tuple(sorted({int(x) for x in spec.split(",") if x.strip()}))


def main() -> None:
    """Run everything and print the tables."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers (finally) when stopped
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="published models (default: train the demo profile)")
    parser.add_argument("--quick", action="store_true", help="1 round, 1 s runs, 1 cold start (< 3 min)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients for single-instance requests")
    parser.add_argument("--batch-clients", default=None,
                        help="concurrent clients for batch requests (default 1,8; --quick: 1). 32 clients of "
                             "100-instance batches only queue (the server is saturated at 8) and a heavy model's "
                             "backlog takes seconds to drain after each run: add it with 1,8,32 (+ ~4 min)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--plots", type=Path, help="write PNG plots into this folder")
    args = parser.parse_args()
    require_wrk()
    began = time.perf_counter()
    rounds = args.rounds or (1 if args.quick else 3)
    args.batch_clients = args.batch_clients or ("1" if args.quick else "1,8")
    seconds, cap = 1.0, (3.0 if args.quick else 4.0)
    print(f"machine: {machine()}")
    root = args.models
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="bench-serving-")) / "models"
        profile = "tiny" if args.quick else "demo"
        print(f"trained the {profile} profile into {root} in {train(root, args.quick):.0f} s", flush=True)
    starts = [cold_start(root) for _ in range(1 if args.quick else 3)]
    heavy = heavy_imports(root)
    walls, cpus = [s[0] for s in starts], [s[1] for s in starts]
    print(f"cold start, process start to all five models ready: median {statistics.median(walls):.2f} s wall "
          f"of {len(starts)} ({', '.join(f'{s:.2f}' for s in walls)}), {statistics.median(cpus):.2f} s CPU "
          f"({', '.join(f'{s:.2f}' for s in cpus)}) (goal < 5 s)")
    print(f"heavy libraries imported by the serving path: {heavy or 'none'} (checked: {', '.join(HEAVY)})")
    ours_port, base_port = free_port(), free_port()
    ours, _ = start(serve_cmd(root, ours_port), f"http://127.0.0.1:{ours_port}", "/v2/health/ready")
    base, _ = start([python(), "bench/baselines.py", "--port", str(base_port), "--grpc-port", str(free_port()),
                     "--model-pkl", str(root / "anomaly-detector" / "model.pkl")],
                    f"http://127.0.0.1:{base_port}", "/v1/models/noop")
    try:
        all_targets = targets(root, f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{base_port}", args.batch,
                              (ours.pid, base.pid))
        for t in all_targets:
            check(t)
        clients = {True: parse_clients(args.clients), False: parse_clients(args.batch_clients)}
        print(f"{len(all_targets)} targets; clients {clients[True]} (single), {clients[False]} (batch); {rounds} "
              f"rounds ({seconds:g} s per run, up to {cap:g} s for slow requests)", flush=True)
        results = measure(all_targets, clients, rounds, seconds, cap)
    finally:
        stop(ours)
        stop(base)
    print(f"\nREST, keep-alive clients (wrk -t1), median of {rounds} interleaved round(s); "
          f"inst/s = instances (rows) per second; vs no-op = req/s over the no-op's at the same protocol, "
          f"batch and clients; CPU ms = the server process's CPU time per request; capacity = the no-op's CPU ms "
          f"over this one's (what a dedicated core would sustain, relative to the no-op); {load_average()}")
    for line in table(results, args.batch):
        print(line)
    print()
    for line in model_times(root):
        print(line)
    print(f"\ntotal {time.perf_counter() - began:.0f} s; {load_average()}")
    if args.json:
        rows = [{"model": k[0], "proto": k[1], "size": k[2], "clients": k[3], **v} for k, v in results.items()]
        args.json.write_text(json.dumps({"cold_start_s": walls, "cold_start_cpu_s": cpus, "heavy_imports": heavy,
                                         "results": rows}, indent=1))
    if args.plots:
        args.plots.mkdir(parents=True, exist_ok=True)
        print(f"plot: {throughput_plot(results, args.plots / 'serving_throughput.png')}")


if __name__ == "__main__":
    main()
