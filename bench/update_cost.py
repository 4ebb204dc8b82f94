"""Incremental update against full training, per family and per series, on a synthetic profile.

Every family is trained on TRAINING_DAYS (7) of the profile ending a day ago, then updated
from the latest UPDATE_DAYS (2) ending now: the data a day later. Prints, per family, the
series (entities) it fits, the wall seconds of the full fit and of the update (each in
total and per series) and their ratio, resource-forecast's stages, then both runs end to
end as the CLI does them (data read or generated, every family, publishing included).

With ``--cli``, the two runs end to end are instead the commands themselves, each in a
fresh process (imports included): ``python -m training run`` then ``python -m training update``
on the same profile.

    .venv/bin/python bench/update_cost.py [--profile demo] [--out models-dir] [--json file] [--cli]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics_ai.families import MODEL_NAMES  # noqa: E402
from metrics_ai.settings import load_settings  # noqa: E402
from training.families.base import TrainOutcome, no_progress  # noqa: E402
from training.pipeline import run_training  # noqa: E402
from training.sources import window_of  # noqa: E402
from training.sources.profiles import get_profile  # noqa: E402
from training.sources.synthetic import generate  # noqa: E402
from training.update import latest, run_update, window_days  # noqa: E402


def series_count(outcome: TrainOutcome | None) -> int:
    """How many per-entity models a family holds (the unit of 'per series')."""
    if outcome is None:
        return 0
    p: Any = outcome.predictor
    for attr in ("disks", "series", "clusters"):
        found = getattr(p, attr, None)
        if isinstance(found, dict):
            return len(found)
    state = getattr(p, "state", None)
    return len(state.series) if state is not None else len(outcome.entities)


def describe(run: Any) -> str:
    """Why an update was not published (rejected by the gate, or failed)."""
    return run.published.reason if run.published is not None else "failed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--out", type=Path, default=None, help="model root (default: a temporary folder)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    parser.add_argument("--cli", action="store_true", help="time the two commands end to end instead")
    args = parser.parse_args()
    if args.cli:
        cli(args.profile, args.out or Path(tempfile.mkdtemp(prefix="update-cost-")))
        return
    settings = load_settings()
    profile = get_profile(args.profile)
    days = profile.days or settings.training_days
    end = pd.Timestamp.now(tz="UTC").floor("min")
    out = args.out or Path(tempfile.mkdtemp(prefix="update-cost-"))

    start = time.perf_counter()
    earlier = generate(
        profile, days, settings.step, settings.anomaly_rate, settings.seed, end=end - pd.Timedelta(days=1)
    )
    read_full = time.perf_counter() - start
    start = time.perf_counter()
    runs = run_training(
        earlier, window_of(earlier, "synthetic"), settings, out, list(MODEL_NAMES), lambda _: no_progress
    )
    full_total = read_full + time.perf_counter() - start
    for run in runs:
        assert run.ok, (run.model, run.error, run.published)

    start = time.perf_counter()
    later = generate(profile, days, settings.step, settings.anomaly_rate, settings.seed, end=end)
    window = latest(later, window_days(settings))
    read_update = time.perf_counter() - start
    start = time.perf_counter()
    done = run_update(window, window_of(window, "synthetic"), settings, out, list(MODEL_NAMES), lambda _: no_progress)
    update_total = read_update + time.perf_counter() - start

    rows = []
    for full, upd in zip(runs, done, strict=True):
        n = series_count(full.outcome)
        status = "kept" if upd.kept else "current" if upd.run.ok else (upd.run.error or describe(upd.run))
        rows.append(
            {
                "family": full.model,
                "series": n,
                "full_s": round(full.seconds, 2),
                "update_s": round(upd.run.seconds, 2),
                "full_ms_per_series": round(1000 * full.seconds / max(n, 1), 1),
                "update_ms_per_series": round(1000 * upd.run.seconds / max(n, 1), 1),
                "ratio": round(upd.run.seconds / max(full.seconds, 1e-9), 3),
                "update_status": status,
                "stages_full": (full.outcome.metrics.get("timing_s") if full.outcome else None),
                "stages_update": (upd.run.outcome.metrics.get("timing_s") if upd.run.outcome else None),
            }
        )
    print(f"profile {profile.name}: {days:g} training days, update window {window_days(settings):g} days, {out}")
    print(
        f"{'family':18s} {'series':>6s} {'full s':>8s} {'update s':>9s} {'full ms/s':>10s} {'upd ms/s':>9s} "
        f"{'ratio':>6s}  update"
    )
    for r in rows:
        print(
            f"{r['family']:18s} {r['series']:6d} {r['full_s']:8.2f} {r['update_s']:9.2f} "
            f"{r['full_ms_per_series']:10.1f} {r['update_ms_per_series']:9.1f} {r['ratio']:6.3f}  {r['update_status']}"
        )
        if r["stages_full"]:
            print(f"{'':18s} stages full {r['stages_full']}  update {r['stages_update']}")
    ratio = update_total / full_total
    print(
        f"end to end: full run {full_total:.1f} s (data {read_full:.1f} s), update run {update_total:.1f} s "
        f"(data {read_update:.1f} s): ratio {ratio:.3f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"families": rows, "full_s": full_total, "update_s": update_total, "ratio": ratio}, indent=2)
        )


def cli(profile: str, out: Path) -> None:
    """``python -m training run`` then ``update`` (fresh processes), wall seconds of each."""
    seconds = {}
    for command in ("run", "update"):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "training", command, "--out", str(out), "--profile", profile, "--models", "all"],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds[command] = time.perf_counter() - start
        print(done.stdout)
        if done.returncode != 0:
            print(done.stderr[-3000:])
    run, update = seconds["run"], seconds["update"]
    print(f"cli: run {run:.1f} s, update {update:.1f} s: ratio {update / run:.3f}")


if __name__ == "__main__":
    main()
