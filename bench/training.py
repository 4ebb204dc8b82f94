"""Training cost per family: wall time, peak memory and seconds per series, demo and cluster-100.

Per profile, one process (``bench/training_child.py``) generates the synthetic data
once and trains every family in a child forked from it (fit, backtest, publish, as
``python -m training run`` does): each family's wall time and peak memory are its
own, and the process's total wall time (Python start, imports, data, all five) is
the "one run" figure the budgets are about (demo < 3 min, cluster-100
< 15 min on 2 cores). Cost per series = the family's seconds / its series.

    .venv/bin/python -m bench.training [--profile demo|cluster-100|both] [--models a,b]
        [--days D] [--json OUT] [--plots DIR]

Default: both profiles at their full 7 days, measured (about 8 minutes on a shared
2-core machine at load 3). ``--days D`` (cluster-100 only) trains on fewer days and
prints a linear extrapolation to 7 days, labelled as such: a rough, pessimistic
estimate (LSTM windows are capped, so cost grows less than linearly with days).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import load_average, machine, python
from metrics_ai.families import MODEL_NAMES

GOALS_S = {"demo": 180.0, "cluster-100": 900.0}
FULL_DAYS = 7.0


def measure(profile: str, models: list[str], days: float | None) -> dict[str, Any]:
    """Run the child for one profile; its JSON lines and total wall time."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        cmd = [python(), "-m", "bench.training_child", "--profile", profile, "--models", ",".join(models),
               "--out", tmp]
        if days:
            cmd += ["--days", f"{days:g}"]
        began = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"training run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    data = next(x for x in lines if x["kind"] == "data")
    families = {x["model"]: x for x in lines if x["kind"] == "family"}
    return {"profile": profile, "days": days or FULL_DAYS, "wall_s": wall, "data": data, "families": families}


def report(m: dict[str, Any], all_models: bool) -> list[str]:
    """The printed table for one profile."""
    days = m["days"]
    scale = FULL_DAYS / days
    extrapolate = days < FULL_DAYS
    d = m["data"]
    head = (f"{'family':18} {'wall s':>7} {'fit s':>7} {'series':>6} {'s/series':>9} {'tree MiB':>9} "
            f"{'proc MiB':>9} {'status':>8}" + (f" {'x' + f'{scale:.3g}' + ' s (extrap.)':>17}" if extrapolate else ""))
    lines = [f"profile {m['profile']}, {days:g} days of 1-minute data: {d['rows']:,} rows, {d['entities']} entities; "
             f"{load_average()}",
             "wall = the forked child's time; fit = the pipeline's own fit + backtest + publish time; "
             "tree = peak RSS of the child and its workers; proc = peak RSS of the largest process",
             head, "-" * len(head),
             f"{'(data generation)':18} {d['seconds']:7.1f} {'':>7} {'':>6} {'':>9} {d['rss_mib']:9.0f} "
             f"{d['peak_mib']:9.0f}"]
    for model, f in m["families"].items():
        fit, series = f["fit_s"] or 0.0, f["series"] or 0
        per = f"{fit / series:9.3f}" if series else f"{'-':>9}"
        extra = f" {f['wall_s'] * scale:17.0f}" if extrapolate else ""
        lines.append(f"{model:18} {f['wall_s']:7.1f} {fit:7.1f} {series:6d} {per} {f['tree_peak_mib']:9.0f} "
                     f"{f['process_peak_mib']:9.0f} {f['status'][:8]:>8}{extra}")
    goal = GOALS_S.get(m["profile"])
    total = m["wall_s"]
    if not all_models:
        lines.append(f"one process, the families above: {total:.0f} s wall (not all five: no budget verdict)")
    elif extrapolate:
        lines.append(f"one process, all five, {days:g} days (measured): {total:.0f} s wall; EXTRAPOLATED to "
                     f"{FULL_DAYS:g} days (x{scale:.3g}, linear in days): {total * scale:.0f} s against the goal "
                     f"of {goal:.0f} s: {'within' if total * scale < goal else 'OVER'} "
                     "(an estimate, not a measurement)")
    else:
        lines.append(f"one process, all five (measured, Python start to last publish): {total:.0f} s wall; goal "
                     f"< {goal:.0f} s: {'met' if total < goal else 'MISSED'}")
    return lines


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["demo", "cluster-100", "both"], default="both")
    parser.add_argument("--models", default="all", help="'all' or a comma list")
    parser.add_argument("--days", type=float, default=None, help="cluster-100 days (default 7; fewer: extrapolated)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plots", type=Path)
    args = parser.parse_args()
    models = list(MODEL_NAMES) if args.models == "all" else [m.strip() for m in args.models.split(",")]
    profiles = ["demo", "cluster-100"] if args.profile == "both" else [args.profile]
    began = time.perf_counter()
    print(f"machine: {machine()}", flush=True)
    results = []
    for profile in profiles:
        days = args.days if profile == "cluster-100" else None
        results.append(measure(profile, models, days))
        print(f"  {profile} done in {results[-1]['wall_s']:.0f} s; {load_average()}", flush=True)
    for m in results:
        print()
        print("\n".join(report(m, models == list(MODEL_NAMES))))
    print(f"\ntotal {time.perf_counter() - began:.0f} s; {load_average()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.plots:
        from bench.plots import grouped_bars

        args.plots.mkdir(parents=True, exist_ok=True)
        series = {f"{m['profile']} ({m['days']:g} d)": [m["families"][g]["wall_s"] for g in models] for m in results}
        print("plot:", grouped_bars(models, series, "Training wall time per family (own process, data in memory)",
                                    "seconds (log)", args.plots / "training_seconds.png", log=True))


if __name__ == "__main__":
    main()
