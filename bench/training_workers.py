"""Training wall time against workers: the per-series families on 1, 2, 4 local processes and on Ray.

The families whose independent per-series fits go through the executor (disk-eta,
io-crisis, resource-forecast with FORECAST_COMPONENTS=prophet,arima) train on the same
synthetic data with WORKERS=1, 2, 4 and then through a Ray head with 2 CPUs on
127.0.0.1 (started here and stopped at the end, every process of it). Each figure is
one family's ``fit`` (fits + backtest, no publishing), the median of ``--repeat`` rounds
(settings interleaved within a round). Each setting's worker processes are started and
have imported the fitting libraries before the clock starts (as this process has, by a
warm-up on one day of the tiny profile): that one-off cost is the "start s" column, the
rest is steady state. The driver's connection to Ray is not timed either. The speed-up is the
1-worker time over the setting's time, "per worker" the speed-up divided by the
workers; "fan-out" is the part of the time spent in the executor's parallel maps (the
rest runs in this process: preparing the series, assembling the served state). The models must be the
same on every setting (entities and gate figures are compared).

    .venv/bin/python -m bench.training_workers [--profile demo] [--days D] [--workers 1,2,4] [--ray-cpus 2]
        [--repeat 2]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

from bench.common import load_average, machine
from metrics_ai.settings import DataSource, load_settings
from training.executor import LocalExecutor, RayExecutor
from training.families import trainer_class
from training.ray_local import LocalRayHead
from training.sources import load_data
from training.sources.profiles import get_profile
from training.sources.synthetic import generate

FAMILIES = ("disk-eta", "io-crisis", "resource-forecast")


def load_fitting_libraries(_: int) -> None:
    """Import what the fits import (runs in a worker: its one-off start cost)."""
    import statsmodels.tsa.arima.model  # noqa: F401

    import training.families.disk_eta  # noqa: F401
    import training.families.forecast  # noqa: F401
    import training.families.io_crisis  # noqa: F401

    time.sleep(0.5)  # hold this worker so that the next task starts another


def start_workers(executor: LocalExecutor | RayExecutor, workers: int) -> float:
    """Start the executor's workers and load the libraries in each; seconds it took."""
    start = time.perf_counter()
    executor.map(load_fitting_libraries, [(str(i), i) for i in range(2 * workers)], "start")
    executor.records.clear()
    return time.perf_counter() - start


def train(
    frame: Any, executor: LocalExecutor | RayExecutor, **overrides: Any
) -> tuple[dict[str, float], float, dict[str, Any]]:
    """Fit every family with ``executor``.

    Returns:
        Seconds per family, seconds of the fanned-out work alone (the executor's maps),
        and what each family learnt (for the check).
    """
    settings = load_settings(forecast_components="prophet,arima", **overrides)
    seconds, learnt, fanned = {}, {}, 0.0
    for model in FAMILIES:
        first = len(executor.records)
        start = time.perf_counter()
        outcome = trainer_class(model)(settings, executor).fit(frame)
        seconds[model] = time.perf_counter() - start
        fanned += sum(m.seconds for m in executor.records[first:])
        learnt[model] = (outcome.entities, outcome.metrics.get("gate", {}))
    return seconds, fanned, learnt


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same entities and gate figures (to 1e-9) for every family."""
    for model, (entities, gate) in a.items():
        other_entities, other_gate = b[model]
        if entities != other_entities or sorted(gate) != sorted(other_gate):
            return False
        if not all(math.isclose(gate[k], other_gate[k], rel_tol=1e-9, abs_tol=1e-9) for k in gate):
            return False
    return True


def median_row(name: str, workers: int, rounds: list[tuple[dict[str, float], float, float]]) -> tuple:
    """One table row: medians over rounds of each family's seconds, the fan-out and the start seconds."""
    seconds = {m: statistics.median(r[0][m] for r in rounds) for m in FAMILIES}
    return name, workers, seconds, statistics.median(r[1] for r in rounds), statistics.median(r[2] for r in rounds)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--days", type=float, default=None, help="training days (default: the profile's)")
    parser.add_argument("--workers", default="1,2,4", help="local worker counts (the first is the baseline)")
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray head (0: no Ray run)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the table shows medians")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    print(machine())
    base = load_settings(ray_address=None, **({"training_days": args.days} if args.days else {}))
    frame, window = load_data(base, DataSource.synthetic, None, args.profile)
    print(f"profile {args.profile}: {window.rows} rows, {window.entities} entities, {window.start} .. {window.end}")
    train(generate(get_profile("tiny"), 1.0, base.step, base.anomaly_rate, base.seed), LocalExecutor(1), workers=1)
    measured: dict[str, list[tuple[dict[str, float], float, float]]] = {f"local x{n}": [] for n in counts}
    reference: dict[str, Any] | None = None
    checks = []
    for round_ in range(args.repeat):
        for n in counts:
            executor: LocalExecutor | RayExecutor = LocalExecutor(n)
            started = start_workers(executor, n) if n > 1 else 0.0
            seconds, fanned, learnt = train(frame, executor, ray_address=None, workers=n)
            measured[f"local x{n}"].append((seconds, fanned, started))
            reference = reference or learnt
            checks.append(same(reference, learnt))
            print(f"  round {round_ + 1} local x{n}: {sum(seconds.values()):.1f} s ({load_average()})", flush=True)
    rows = [median_row(f"local x{n}", n, measured[f"local x{n}"]) for n in counts]
    if args.ray_cpus:
        name, rounds = f"ray x{args.ray_cpus}", []
        with LocalRayHead(cpus=args.ray_cpus) as head:
            executor = RayExecutor(head.address)
            executor.connect()  # the connection is not part of the fits' time
            started = start_workers(executor, args.ray_cpus)
            for round_ in range(args.repeat):
                seconds, fanned, learnt = train(frame, executor, ray_address=head.address)
                rounds.append((seconds, fanned, started))
                checks.append(reference is not None and same(reference, learnt))
                print(f"  round {round_ + 1} {name}: {sum(seconds.values()):.1f} s ({load_average()})", flush=True)
            import ray

            ray.shutdown()
        rows.append(median_row(name, args.ray_cpus, rounds))
    base_total, base_fanned = sum(rows[0][2].values()), rows[0][3]
    families = " | ".join(f"{m} s" for m in FAMILIES)
    print()
    print(f"| setting | start s | {families} | total s | speed-up | per worker | fan-out s | fan-out speed-up |")
    print("|" + "---|" * (len(FAMILIES) + 7))
    for name, workers, seconds, fanned, started in rows:
        total = sum(seconds.values())
        speedup = base_total / total
        cells = " | ".join(f"{seconds[m]:.1f}" for m in FAMILIES)
        print(
            f"| {name} | {started:.1f} | {cells} | {total:.1f} | {speedup:.2f} | {speedup / workers:.2f} "
            f"| {fanned:.1f} | {base_fanned / max(fanned, 1e-9):.2f} |"
        )
    print()
    print(f"same models on every setting (entities, gate figures to 1e-9): {'yes' if all(checks) else 'NO'}")
    print(load_average())


if __name__ == "__main__":
    main()
