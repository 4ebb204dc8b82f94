"""One alerting pass over the cluster-100 profile's entities: wall time and predictor CPU per pass.

A real Prometheus is filled (promtool backfill, the test fixture's exporter writer) with
``--days`` of the synthetic profile's node-exporter, cAdvisor and kube-state-metrics
series (100 nodes, 3 filesystems each, scraped every 120 s); a real predictor serves
``--models`` (trained on the same profile: ``python -m training run --source synthetic
--profile cluster-100``); the client (:class:`alerting.passes.Pass`, exactly what
``python -m alerting`` runs) makes ``--passes`` passes as of the data end. Prints per
pass the wall seconds (Prometheus reads included), the seconds of the Prometheus reads
alone, and the CPU seconds the predictor, Prometheus and the client process spent;
then the medians.

    .venv/bin/python bench/alerting_pass.py --models DIR [--days 3] [--passes 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerting.discovery import discover  # noqa: E402
from alerting.passes import Pass  # noqa: E402
from alerting.settings import MODELS, AlertingSettings  # noqa: E402
from bench.common import REPO, free_port, start  # noqa: E402
from metrics_ai.settings import Settings  # noqa: E402
from tests.prometheus_fixture import SCRAPE, backfill_and_serve, stop_process  # noqa: E402
from training.sources.profiles import get_profile  # noqa: E402
from training.sources.synthetic import generate  # noqa: E402


def fill_prometheus(profile: str, days: float, workdir: Path) -> tuple[subprocess.Popen[bytes], str, float, int]:
    """Backfill and start Prometheus; returns (process, url, data end unix s, samples)."""
    end = pd.Timestamp.now(tz="UTC").floor(f"{SCRAPE}s")
    truth = generate(get_profile(profile), days, SCRAPE, anomaly_rate=0.0, seed=42, end=end)
    grid = pd.date_range(end=end, periods=int(days * 86400 // SCRAPE), freq=f"{SCRAPE}s")
    proc, url, samples = backfill_and_serve(workdir, truth, grid, timeout=1800)
    return proc, url, end.timestamp(), samples


def wait_models(url: str, timeout: float = 300) -> None:
    """Block until every model answers ready."""
    deadline = time.monotonic() + timeout
    for name in MODELS:
        while httpx.get(f"{url}/v1/models/{name}", timeout=10).json().get("ready") is not True:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout} s")
            time.sleep(0.5)


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU seconds of a process (children included)."""
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    """Fill, serve, run the passes, print the table and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="model dir trained on the profile")
    parser.add_argument("--profile", default="cluster-100")
    parser.add_argument("--days", type=float, default=3.0, help="days of data in Prometheus (disk-eta reads 72 h)")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="alerting-bench-") as tmp:
        t0 = time.perf_counter()
        prom, prom_url, end, samples = fill_prometheus(args.profile, args.days, Path(tmp))
        print(
            f"Prometheus: {samples:,} samples of {args.profile} ({args.days:g} days) loaded in "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        port = free_port()
        predictor, ready_s = start(
            [
                sys.executable,
                "-m",
                "serving",
                "--model-dir",
                str(args.models),
                "--http-port",
                str(port),
                "--grpc-port",
                str(free_port()),
            ],
            f"http://127.0.0.1:{port}",
            "/v1/models/resource-forecast",
            env={"PROMETHEUS_URL": "", "METRICS_AI_PROMETHEUS_URL": "", "PYTHONPATH": str(REPO)},
        )
        wait_models(f"http://127.0.0.1:{port}")
        settings = Settings(prometheus_url=prom_url)
        options = AlertingSettings(predictor_url=f"http://127.0.0.1:{port}")
        passes = Pass(settings, options, clock=lambda: end)
        pred_ps, prom_ps = psutil.Process(predictor.pid), psutil.Process(prom.pid)
        rows: list[dict[str, Any]] = []
        try:
            for i in range(args.passes + 1):  # pass 0 warms connections and caches; not counted
                c0, p0, q0, w0 = cpu_seconds(pred_ps), cpu_seconds(prom_ps), time.process_time(), time.perf_counter()
                result = passes.run()
                wall = time.perf_counter() - w0
                row = {
                    "wall_s": wall,
                    "predictor_cpu_s": cpu_seconds(pred_ps) - c0,
                    "prometheus_cpu_s": cpu_seconds(prom_ps) - p0,
                    "client_cpu_s": time.process_time() - q0,
                    "outcome": result.outcome(options.models),
                    "entities": result.entities,
                    "series": len(result.samples),
                }
                r0 = time.perf_counter()
                inventory = discover(passes.reader, options.discovery_seconds, int(end))
                passes.reader.read_all([w for m in MODELS for w in passes.inputs.windows(m)], int(end))
                row["reads_s"] = time.perf_counter() - r0
                if i:
                    rows.append(row)
                print(
                    f"pass {i}{' (warm-up)' if not i else ''}: {row['outcome']}, {row['series']} series, "
                    f"wall {wall:.2f} s (Prometheus reads alone {row['reads_s']:.2f} s), CPU s: predictor "
                    f"{row['predictor_cpu_s']:.2f}, Prometheus {row['prometheus_cpu_s']:.2f}, "
                    f"client {row['client_cpu_s']:.2f}",
                    flush=True,
                )
        finally:
            passes.close()
            stop_process(predictor)
            stop_process(prom)
    med = {
        k: statistics.median(r[k] for r in rows)
        for k in ("wall_s", "reads_s", "predictor_cpu_s", "prometheus_cpu_s", "client_cpu_s")
    }
    print(
        f"\nentities per pass: {rows[-1]['entities']} ({len(inventory.nodes)} nodes, "
        f"{len(inventory.filesystems)} filesystems); predictor ready in {ready_s:.1f} s"
    )
    print(
        f"median of {len(rows)} passes on {os.cpu_count()} cores: wall {med['wall_s']:.2f} s "
        f"(reads {med['reads_s']:.2f} s); CPU s per pass: predictor {med['predictor_cpu_s']:.2f}, "
        f"Prometheus {med['prometheus_cpu_s']:.2f}, client {med['client_cpu_s']:.2f}"
    )
    if args.json:
        args.json.write_text(json.dumps({"median": med, "passes": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
