"""Disk-fill and crisis alerts on the synthetic cluster, whose future is known.

``python -m bench.alerts_synthetic [--profile demo] [--seed 42]``

The generator (training/sources/synthetic.py) makes ``TRAIN + EVAL + AHEAD`` days at a
5-minute step. disk-eta and io-crisis are trained, as the training job trains them, on
the first ``TRAIN`` days only and never refitted. Then, every hour of the ``EVAL`` days,
each model is asked over V1 with the last 3 days of history (what the alerting client
sends) and the alert is read as the chart ships it: ``MetricsAIFilesystemFillingUp`` =
disk-eta severity WARNING or CRITICAL (under 7 days to 90 %), and separately CRITICAL
(under 3 days); ``MetricsAICrisisAhead`` = io-crisis ``crisis`` (threshold within 7 days).

The truth is the generated data itself: at hour ``t`` an entity is *due* when its series
really crosses the threshold within the alert's horizon after ``t`` (the disk's 5-minute
used % for 90 %; the node signal's hourly mean for its crisis threshold, as io-crisis
forecasts the hourly level). Reported per alert: entity-days evaluated, alarm hours and
alarm onsets per entity-day while *not* due (false alarms), hours due that were alarmed
(recall), and, for each entity that becomes due during the window, whether and how early
(hours before the real crossing) the alert fired.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bench.codec_calls import v1
from metrics_ai.crossing import DAY
from metrics_ai.settings import load_settings
from training.families.disk_eta import DiskEtaTrainer
from training.families.io_crisis import IoCrisisTrainer
from training.sources.profiles import get_profile
from training.sources.synthetic import generate

TRAIN, EVAL, AHEAD = 7.0, 7.0, 7.0
HISTORY = 3 * DAY
STEP = 300
END = pd.Timestamp("2026-11-02 00:00", tz="UTC")  # fixed: the run does not depend on the clock


@dataclass
class Tally:
    """One alert's counts over the evaluation hours."""

    name: str
    horizon_days: float
    entities: int = 0
    hours_not_due: int = 0
    false_hours: int = 0
    false_onsets: int = 0
    hours_due: int = 0
    due_alarmed: int = 0
    leads: list[float] = field(default_factory=list)
    missed: int = 0

    def line(self) -> str:
        days = self.hours_not_due / 24.0
        lead = f"{statistics.median(self.leads):5.1f}" if self.leads else "    -"
        recall = self.due_alarmed / self.hours_due if self.hours_due else float("nan")
        return (
            f"{self.name:38} {self.entities:5d} {days:9.1f} {self.false_hours / max(days, 1e-9):9.3f} "
            f"{self.false_onsets / max(days, 1e-9):9.3f} {recall:8.2f} "
            f"{len(self.leads):4d}/{len(self.leads) + self.missed:<4d} {lead}"
        )


def first_crossing(t: np.ndarray, v: np.ndarray, after: float, until: float, threshold: float) -> float | None:
    """First time in ``(after, until]`` where ``v`` is at or above ``threshold``."""
    mask = (t > after) & (t <= until) & (v >= threshold)
    return float(t[np.argmax(mask)]) if mask.any() else None


def evaluate(
    tally: Tally,
    series: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    truth: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    threshold: Callable[[tuple[str, str]], float],
    ask: Callable[[list[tuple[str, str]], dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]], list[bool]],
    hours: np.ndarray,
) -> None:
    """Walk the evaluation hours, asking ``ask`` for every entity's alarm at each hour."""
    keys = sorted(series)
    tally.entities = len(keys)
    alarmed = {k: np.zeros(hours.size, bool) for k in keys}
    due = {k: np.zeros(hours.size, bool) for k in keys}
    for h, now in enumerate(hours):
        windows = {}
        for k in keys:
            t, v = series[k]
            keep = (t > now - HISTORY) & (t <= now)
            windows[k] = (t[keep], v[keep])
        for k, fires in zip(keys, ask(keys, windows), strict=True):
            alarmed[k][h] = fires
            tt, tv = truth[k]
            due[k][h] = first_crossing(tt, tv, now, now + tally.horizon_days * DAY, threshold(k)) is not None
    for k in keys:
        a, d = alarmed[k], due[k]
        tally.hours_not_due += int((~d).sum())
        tally.false_hours += int((a & ~d).sum())
        tally.false_onsets += int((a & ~d & ~np.concatenate([[False], a[:-1]])).sum())
        tally.hours_due += int(d.sum())
        tally.due_alarmed += int((a & d).sum())
        if d.any():
            tt, tv = truth[k]
            crossing = first_crossing(tt, tv, hours[0], hours[-1] + tally.horizon_days * DAY, threshold(k))
            fired = hours[a & (hours <= (crossing or np.inf))]
            if crossing is not None and fired.size:
                tally.leads.append((crossing - float(fired[0])) / 3600.0)
            else:
                tally.missed += 1


def hourly(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hourly means stamped at each hour's end (the level io-crisis forecasts)."""
    hour = np.floor(t / 3600.0)
    frame = pd.DataFrame({"h": hour, "v": v}).groupby("h")["v"].mean()
    return (frame.index.to_numpy() + 1) * 3600.0, frame.to_numpy()


def history(t: np.ndarray, v: np.ndarray) -> dict[str, list[float]]:
    return {"timestamps": t.tolist(), "values": v.tolist()}


def main(argv: list[str] | None = None) -> None:
    """Command line: ``[--profile demo] [--seed 42]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.alerts_synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo", help="synthetic profile (demo: 9 nodes, 27 disks)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    frame = generate(get_profile(args.profile), TRAIN + EVAL + AHEAD, step=STEP, seed=args.seed, end=END)
    stamps = frame["timestamp"].astype("int64").to_numpy() / 1e9
    cut = stamps.min() + TRAIN * DAY
    settings = load_settings(step=STEP)
    train = frame[stamps <= cut]
    disk: Any = DiskEtaTrainer(settings).fit(train).predictor
    crisis: Any = IoCrisisTrainer(settings).fit(train).predictor
    print(f"trained on {TRAIN:g} days in {time.perf_counter() - began:.0f} s", flush=True)
    frame = frame.assign(t=stamps)
    hours = np.arange(cut + 3600.0, cut + EVAL * DAY + 1, 3600.0)
    tallies: list[Tally] = []

    disks = {
        (n, m): (g["t"].to_numpy(), g["value"].to_numpy())
        for (n, m), g in frame[frame["signal"] == "disk_used_pct"].groupby(["node", "mountpoint"], observed=True)
    }

    def ask_disks(grade: tuple[str, ...]) -> Callable:
        def ask(keys: list, windows: dict) -> list[bool]:
            answers = v1(disk, [{"node": n, "mountpoint": m, "history": history(*windows[(n, m)])} for n, m in keys])
            return [a["severity"] in grade for a in answers]

        return ask

    for name, grade, horizon in (
        ("disk fill: WARNING or CRITICAL", ("WARNING", "CRITICAL"), 7.0),
        ("disk fill: CRITICAL", ("CRITICAL",), 3.0),
    ):
        tally = Tally(name, horizon)
        evaluate(tally, disks, disks, lambda k: settings.disk_threshold, ask_disks(grade), hours)
        tallies.append(tally)

    net = settings.net_threshold
    signals = {"io_wait": settings.io_wait_threshold, "net_rx": net, "net_tx": net}
    nodes = {
        (n, s): (g["t"].to_numpy(), g["value"].to_numpy())
        for (n, s), g in frame[frame["signal"].isin(list(signals))].groupby(["node", "signal"], observed=True)
    }

    def ask_crisis(keys: list, windows: dict) -> list[bool]:
        answers = v1(crisis, [{"node": n, "signal": s, "history": history(*windows[(n, s)])} for n, s in keys])
        return [bool(a["crisis"]) for a in answers]

    tally = Tally("crisis ahead (io_wait, net_rx, net_tx)", 7.0)
    evaluate(tally, nodes, {k: hourly(*v) for k, v in nodes.items()}, lambda k: signals[k[1]], ask_crisis, hours)
    tallies.append(tally)

    print(
        f"profile {args.profile}, seed {args.seed}: trained on {TRAIN:g} days, asked every hour for {EVAL:g} days "
        f"with {HISTORY / DAY:g} days of history; truth from the {AHEAD:g} generated days after"
    )
    print(
        f"{'alert':38} {'ents':>5} {'ent-days':>9} {'false h/d':>9} {'false/d':>9} {'recall':>8} {'caught':>9} "
        f"{'lead h':>5}"
    )
    for t in tallies:
        print(t.line())
    print(f"({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
