"""One measured training run: the data once, then each family in a forked child.

Run by ``bench/training.py`` (``python -m bench.training_child --profile P [--days D]
--models a,b --out DIR``). The synthetic data is generated once, as in a real run;
each family then trains (fit, backtest, publish: ``training.pipeline.run_training``)
in a child forked from that process, so the child holds the data as a real run does
and its peak memory is its own: the largest process (``ru_maxrss`` from ``wait4``)
and the whole process tree (child + its worker processes, sampled every 0.1 s).
Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time
from pathlib import Path

import psutil

from metrics_ai.settings import DataSource, load_settings
from training.families.base import no_progress
from training.pipeline import run_training
from training.sources import load_data


def emit(**fields: object) -> None:
    """One JSON line on stdout."""
    print(json.dumps(fields), flush=True)


def tree_peak(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Sample the RSS sum of ``pid`` and its descendants until ``stop``."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                total += p.memory_info().rss
        except psutil.Error:
            pass
        peak[0] = max(peak[0], total)
        stop.wait(0.1)


def release_workers() -> None:
    """Stop joblib's reusable loky workers (``os._exit`` skips the handler that would)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True, kill_workers=True)


def main() -> None:
    """Generate, then train each family in a forked child and report it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", required=True)
    parser.add_argument("--days", type=float, default=None)
    parser.add_argument("--models", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    settings = load_settings(**({"training_days": args.days} if args.days else {}))
    began = time.perf_counter()
    frame, window = load_data(settings, DataSource.synthetic, None, args.profile)
    emit(kind="data", seconds=time.perf_counter() - began, rows=window.rows, entities=window.entities,
         rss_mib=psutil.Process().memory_info().rss / 2**20,
         peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    for model in args.models.split(","):
        result = args.out / f"{model}.json"
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child: one family, as the pipeline runs it
            code = 1
            try:
                [run] = run_training(frame, window, settings, args.out, [model], lambda _: no_progress)
                status = "current" if run.ok else (run.error or "rejected")
                entities = len(run.outcome.entities) if run.outcome else 0
                result.write_text(json.dumps({"status": status, "seconds": run.seconds, "series": entities}))
                code = 0
            finally:
                release_workers()
                os._exit(code)
        stop, peak = threading.Event(), [0]
        sampler = threading.Thread(target=tree_peak, args=(pid, stop, peak), daemon=True)
        sampler.start()
        _, exit_status, usage = os.wait4(pid, 0)
        stop.set()
        sampler.join()
        info = json.loads(result.read_text()) if result.exists() else {"status": f"exit {exit_status}"}
        emit(kind="family", model=model, wall_s=time.perf_counter() - start, fit_s=info.get("seconds"),
             series=info.get("series"), status=info["status"], process_peak_mib=usage.ru_maxrss / 1024,
             tree_peak_mib=peak[0] / 2**20)


if __name__ == "__main__":
    main()
