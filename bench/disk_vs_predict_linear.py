"""disk-eta against Prometheus ``predict_linear`` and the node-mixin filesystem alerts.

Synthetic disks of every shape with a known crossing of 90 % (training/sources/disks.py):
7 days of 5-minute usage, disk-eta fitted on them as training does and asked with that
history as a request would. Against, from the same samples:

- ``predict_linear`` line: Prometheus's least-squares line over the last 6 h
  (``predict_linear(node_filesystem_avail_bytes[6h], t)``), read as an ETA to 90 %, and
  alarmed like disk-eta's WARNING when under 7 days (a rule one could write with it);
- ``predict_linear 4h``: the bare rule ``predict_linear(node_filesystem_avail_bytes[6h], 4*3600) < 0``;
- node-mixin ``NodeFilesystemSpaceFillingUp``: warning = under 40 % free and full within
  24 h, critical = under 20 % free and full within 4 h, each ``for: 1h`` (the condition
  held at every 5-minute sample of the last hour).

Avail bytes are ``size x (100 - used %) / 100``, so "avail below 0" is "used above 100 %":
the Prometheus rules predict a *full* disk, disk-eta predicts 90 %.

    .venv/bin/python -m bench.disk_vs_predict_linear [--quick] [--plots DIR]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.codec_calls import v1
from metrics_ai.crossing import HOUR, recent_window
from metrics_ai.families.disk_eta import DiskEtaConfig, DiskEtaPredictor, DiskState
from training.families.disk_eta import fit_disk_prophet
from training.sources.disks import DAY, DiskCase, disk_case

CROSSING = ("steady", "sawtooth", "accelerating")
METHODS = (
    "disk-eta",
    "disk-eta CRITICAL",
    "6h line ETA < 7 d",
    "predict_linear 4h",
    "mixin warning",
    "mixin critical",
    "mixin any",
)


@dataclass(frozen=True)
class Outcome:
    """One disk: the truth and what each method said."""

    shape: str
    label: str
    true_eta: float | None
    eta: dict[str, float | None]  # disk-eta ensemble / linear / prophet, predict_linear line
    alarms: dict[str, bool]  # METHODS


def cases(quick: bool) -> Iterator[tuple[str, DiskCase]]:
    """Every shape: fills at several ETAs and seeds, disks that never fill, disks already full."""
    seeds = (1,) if quick else (1, 2, 3)
    etas = (1.0, 3.0, 7.0) if quick else (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0)
    for shape in CROSSING:
        for eta in etas:
            for seed in seeds:
                yield f"eta {eta:g} d", disk_case(shape, eta_days=eta, seed=seed)
    for seed in seeds:
        for step_days in (0.125, 1.25, 3.0) if quick else (0.125, 0.25, 0.5, 1.25, 3.0):
            yield f"step {step_days:g} d ago", disk_case("step_flat", seed=seed, step_days=step_days)
    for seed in (1, 2, 3)[: len(seeds) + 1]:
        yield "shrinking", disk_case("shrinking", seed=seed)
        yield "full", disk_case("full", seed=seed)
    for seed in range(1, 3 * len(seeds) + 1):
        yield "noisy flat", disk_case("noisy_flat", seed=seed)


def predict_linear(t: np.ndarray, v: np.ndarray, at: float, ahead: float, window: float = 6 * HOUR) -> float | None:
    """Prometheus ``predict_linear(v[window], ahead)`` evaluated at ``at`` (least squares, intercept at ``at``)."""
    keep = (t > at - window) & (t <= at)
    if keep.sum() < 2:
        return None
    x, y = t[keep] - at, v[keep]
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept + slope * ahead)


def line_eta_days(t: np.ndarray, v: np.ndarray, threshold: float, horizon_days: float = 365.0) -> float | None:
    """Days until the 6 h least-squares line reaches ``threshold`` (None: not within ``horizon_days``)."""
    now = predict_linear(t, v, t[-1], 0.0)
    later = predict_linear(t, v, t[-1], DAY)
    if now is None or later is None:
        return None
    if now >= threshold:
        return 0.0
    slope = later - now
    days = (threshold - now) / slope if slope > 0 else None
    return days if days is not None and days <= horizon_days else None


def rule(t: np.ndarray, v: np.ndarray, ahead: float, min_used: float, for_seconds: float) -> bool:
    """``used > min_used and predict_linear(avail[6h], ahead) < 0`` held over the last ``for_seconds``."""
    times = t[t >= t[-1] - for_seconds]
    for at in times:
        i = int(np.searchsorted(t, at, side="right")) - 1
        full = predict_linear(t, v, at, ahead)
        if not (v[i] > min_used and full is not None and full > 100.0):
            return False
    return True


def judge(label: str, case: DiskCase) -> Outcome:
    """Fit disk-eta on the case, ask it, and evaluate the Prometheus rules on the same samples."""
    cfg = DiskEtaConfig()
    t, v = case.timestamps, case.values
    state = DiskState(fit_disk_prophet(t, v, cfg), recent_window(t, v, cfg.recent_hours, cfg.recent_step))
    predictor = DiskEtaPredictor(cfg, {("", "node", "/data"): state})
    [pred] = v1(predictor, [{"node": "node", "mountpoint": "/data", "history": case.history()}])
    warning = rule(t, v, DAY, 60.0, HOUR)
    critical = rule(t, v, 4 * HOUR, 80.0, HOUR)
    alarms = {
        "disk-eta": pred["severity"] in ("WARNING", "CRITICAL"),
        "disk-eta CRITICAL": pred["severity"] == "CRITICAL",
        "predict_linear 4h": (predict_linear(t, v, t[-1], 4 * HOUR) or 0.0) > 100.0,
        "mixin warning": warning,
        "mixin critical": critical,
        "mixin any": warning or critical,
    }
    eta = {
        **{f"disk-eta {k}": val for k, val in pred["eta_days"].items()},
        "predict_linear line": line_eta_days(t, v, case.threshold),
    }
    line = eta["predict_linear line"]
    alarms["6h line ETA < 7 d"] = line is not None and line < 7.0
    return Outcome(case.shape, label, case.eta_days, eta, alarms)


def run(quick: bool = False) -> list[Outcome]:
    """Every case, judged."""
    return [judge(label, case) for label, case in cases(quick)]


def relative_error(estimate: float | None, truth: float) -> float:
    """|estimate - truth| / truth; a missing estimate (never) is infinitely wrong."""
    return float("inf") if estimate is None else abs(estimate - truth) / truth


def _median(values: list[float]) -> str:
    if not values:
        return "-"
    m = statistics.median(values)
    return "never" if m == float("inf") else f"{m:.0%}"


def tables(outcomes: list[Outcome]) -> list[str]:
    """ETA error by shape and the alarm table, as printed."""
    estimators = ("disk-eta ensemble", "disk-eta linear", "disk-eta prophet", "predict_linear line")
    lines = [
        "median relative ETA error (|estimate - truth| / truth; fills with a known crossing; "
        "'never' = the median estimate says it never fills)"
    ]
    head = f"{'shape':14} {'disks':>5} " + " ".join(f"{e:>20}" for e in estimators)
    lines += [head, "-" * len(head)]
    for shape in (*CROSSING, "all fills"):
        rows = [
            o for o in outcomes if o.true_eta and (o.shape == shape or (shape == "all fills" and o.shape in CROSSING))
        ]
        cells = [_median([relative_error(o.eta[e], o.true_eta) for o in rows]) for e in estimators]  # type: ignore[arg-type]
        lines.append(f"{shape:14} {len(rows):5d} " + " ".join(f"{c:>20}" for c in cells))
    groups = {
        "fills <= 3 d": [o for o in outcomes if o.true_eta is not None and o.true_eta <= 3],
        "fills 3-7 d": [o for o in outcomes if o.true_eta is not None and 3 < o.true_eta <= 7],
        "fills > 7 d": [o for o in outcomes if o.true_eta is not None and o.true_eta > 7],
        "never fill": [o for o in outcomes if o.true_eta is None],
    }
    lines += [
        "",
        "disks alarmed (fills: caught = good; never fill: false alarms); disk-eta = WARNING or CRITICAL (ETA < 7 d)",
    ]
    head = f"{'method':18} " + " ".join(f"{g + f' ({len(v)})':>17}" for g, v in groups.items())
    lines += [head, "-" * len(head)]
    for method in METHODS:
        lines.append(f"{method:18} " + " ".join(f"{sum(o.alarms[method] for o in v):17d}" for v in groups.values()))
    missed = {m: sum(not o.alarms[m] for o in groups["fills <= 3 d"]) for m in METHODS}
    false = {m: sum(o.alarms[m] for o in groups["never fill"]) for m in METHODS}
    lines += [
        "",
        "missed fills within 3 days: " + ", ".join(f"{m} {n}" for m, n in missed.items()),
        "false alarms on disks that never fill: " + ", ".join(f"{m} {n}" for m, n in false.items()),
    ]
    return lines


def plot(outcomes: list[Outcome], folder: Path) -> list[Path]:
    """ETA error by shape; share of disks alarmed against the true ETA."""
    from bench.plots import grouped_bars, lines

    folder.mkdir(parents=True, exist_ok=True)
    estimators = ("disk-eta ensemble", "predict_linear line")
    series: dict[str, list[float | None]] = {}
    for e in estimators:
        series[e] = []
        for shape in CROSSING:
            errs = [relative_error(o.eta[e], o.true_eta) for o in outcomes if o.shape == shape and o.true_eta]
            m = statistics.median(errs) if errs else None
            series[e].append(None if m is None else min(m, 10.0) * 100)
    a = grouped_bars(
        CROSSING,
        series,
        "Median relative ETA error by disk shape (capped at 1000 % = never)",
        "% of the true ETA",
        folder / "disk_eta_error.png",
    )
    etas = sorted({float(o.label.split()[1]) for o in outcomes if o.shape in CROSSING})
    share: dict[str, list[float]] = {}
    for method in ("disk-eta", "disk-eta CRITICAL", "6h line ETA < 7 d", "predict_linear 4h", "mixin any"):
        share[method] = []
        for eta in etas:
            hit = [o.alarms[method] for o in outcomes if o.shape in CROSSING and float(o.label.split()[1]) == eta]
            share[method].append(100.0 * sum(hit) / len(hit))
    b = lines(
        etas,
        share,
        "Fills alarmed against days until they reach 90 % (steady, sawtooth, accelerating)",
        "days until the disk reaches 90 % (nominal)",
        "% of disks alarmed",
        folder / "disk_alarms_by_eta.png",
    )
    return [a, b]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, print, optionally plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plots", type=Path)
    args = parser.parse_args(argv)
    outcomes = run(args.quick)
    for line in tables(outcomes):
        print(line)
    if args.plots:
        for path in plot(outcomes, args.plots):
            print(f"plot: {path}")
    return {"outcomes": [o.__dict__ for o in outcomes]}


if __name__ == "__main__":
    main()
