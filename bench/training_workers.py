"""Training wall time against workers: the per-series families on 1, 2, 4 local processes and on Ray.

The families whose independent per-series fits go through the executor (disk-eta,
io-crisis, resource-forecast with FORECAST_COMPONENTS=prophet,arima) train on the same
synthetic data with WORKERS=1, 2, 4 and then through a Ray head with 2 CPUs on
127.0.0.1 (started here and stopped at the end, every process of it). Each figure is
one family's ``fit`` (fits + backtest, no publishing), the median of ``--repeat`` rounds
(settings interleaved within a round), worker start-up included (a fresh process pool
per setting; Ray's worker processes start on the first tasks). Untimed: the fitting
libraries' import and first fit in this process (a warm-up on one day of the tiny
profile) and the driver's connection to the head. The speed-up is the
1-worker time over the setting's time, "per worker" the speed-up divided by the
workers; "fan-out" is the part of the time spent in the executor's parallel maps (the
rest, e.g. resource-forecast's backtest, runs in the driver). The models must be the
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


def train(
    frame: Any, executor: LocalExecutor | RayExecutor, **overrides: Any
) -> tuple[dict[str, float], float, dict[str, Any]]:
    """Fit every family with ``executor``.

    Returns:
        Seconds per family, seconds of the fanned-out fits alone (the executor's maps;
        resource-forecast's own ``timing_s.prophet_arima_s`` where it keeps its executor),
        and what each family learnt (for the check).
    """
    settings = load_settings(forecast_components="prophet,arima", **overrides)
    seconds, learnt, fanned = {}, {}, 0.0
    for model in FAMILIES:
        first = len(executor.records)
        start = time.perf_counter()
        outcome = trainer_class(model)(settings, executor).fit(frame)
        seconds[model] = time.perf_counter() - start
        maps = executor.records[first:]
        own = outcome.metrics.get("timing_s", {}).get("prophet_arima_s", 0.0)
        fanned += sum(m.seconds for m in maps) if maps else own
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


def median_row(name: str, workers: int, rounds: list[tuple[dict[str, float], float]]) -> tuple:
    """One table row: the median over rounds of each family's seconds and of the fan-out seconds."""
    seconds = {m: statistics.median(r[0][m] for r in rounds) for m in FAMILIES}
    return name, workers, seconds, statistics.median(r[1] for r in rounds)


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
    measured: dict[str, list[tuple[dict[str, float], float]]] = {f"local x{n}": [] for n in counts}
    reference: dict[str, Any] | None = None
    checks = []
    for round_ in range(args.repeat):
        for n in counts:
            seconds, fanned, learnt = train(frame, LocalExecutor(n), ray_address=None, workers=n)
            measured[f"local x{n}"].append((seconds, fanned))
            reference = reference or learnt
            checks.append(same(reference, learnt))
            print(f"  round {round_ + 1} local x{n}: {sum(seconds.values()):.1f} s ({load_average()})", flush=True)
    rows = [median_row(f"local x{n}", n, measured[f"local x{n}"]) for n in counts]
    if args.ray_cpus:
        name, rounds = f"ray x{args.ray_cpus}", []
        with LocalRayHead(cpus=args.ray_cpus) as head:
            executor = RayExecutor(head.address)
            executor.connect()  # the connection is not part of the fits' time
            for round_ in range(args.repeat):
                seconds, fanned, learnt = train(frame, executor, ray_address=head.address)
                rounds.append((seconds, fanned))
                checks.append(reference is not None and same(reference, learnt))
                print(f"  round {round_ + 1} {name}: {sum(seconds.values()):.1f} s ({load_average()})", flush=True)
            import ray

            ray.shutdown()
        rows.append(median_row(name, args.ray_cpus, rounds))
    base_total, base_fanned = sum(rows[0][2].values()), rows[0][3]
    families = " | ".join(f"{m} s" for m in FAMILIES)
    print()
    print(f"| setting | {families} | total s | speed-up | per worker | fan-out s | fan-out speed-up |")
    print("|" + "---|" * (len(FAMILIES) + 6))
    for name, workers, seconds, fanned in rows:
        total = sum(seconds.values())
        speedup = base_total / total
        cells = " | ".join(f"{seconds[m]:.1f}" for m in FAMILIES)
        print(
            f"| {name} | {cells} | {total:.1f} | {speedup:.2f} | {speedup / workers:.2f} "
            f"| {fanned:.1f} | {base_fanned / max(fanned, 1e-9):.2f} |"
        )
    print()
    print(f"same models on every setting (entities, gate figures to 1e-9): {'yes' if all(checks) else 'NO'}")
    print(load_average())


if __name__ == "__main__":
    main()
