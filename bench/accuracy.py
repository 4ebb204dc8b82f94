"""Accuracy on real data (NAB) and on disks with known crossings: the three accuracy tables.

1. resource-forecast MASE per component and ensemble against last-value naive and
   seasonal-naive (288 steps = one day at 5 min), on the NAB CloudWatch series of
   ``bench/accuracy_forecast.py`` (the real trainer: first 80 % to fit, forecasts at
   every cut of the last 20 %, horizon 15 min = 3 steps). MASE = MAE / the in-sample
   MAE of the seasonal-naive one-step forecast on the training part (Hyndman's MASE
   with m = 288).
2. The deviation check as a streaming anomaly detector on the NAB files here, scored
   with NAB's rules (``bench/nab_score.py``, ``bench/nab_detector.py``).
3. disk-eta against Prometheus ``predict_linear`` and the node-mixin filesystem alerts
   (``bench/disk_vs_predict_linear.py``).

    .venv/bin/python -m bench.accuracy [--quick] [--only forecast,nab,disk] [--plots DIR]

``--quick``: 2 LSTM epochs, 4 NAB files, fewer disks (a smoke run; the document quotes
the full run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench import disk_vs_predict_linear, nab_detector
from bench.accuracy_forecast import COLUMNS, DATA, nab_frame
from bench.common import load_average, machine
from bench.nab_score import PUBLISHED
from metrics_ai.settings import load_settings
from training.families.forecast import ForecastTrainer
from training.families.forecast.series import forecast_series

SEASON = 288


def mase_scale(y: np.ndarray, season: int = SEASON) -> float:
    """In-sample MAE of the seasonal-naive one-step forecast (``y[t - season]``)."""
    if y.size <= season:
        return float(np.mean(np.abs(np.diff(y))))
    return float(np.mean(np.abs(y[season:] - y[:-season])))


def forecast_mase(epochs: int, data: Path = DATA, plots: Path | None = None) -> list[str]:
    """Train on the NAB series; MASE per component, ensemble and naive baselines (and a plot)."""
    settings = load_settings(step=300, lstm_epochs=epochs)
    frame = nab_frame(data)
    began = time.perf_counter()
    outcome = ForecastTrainer(settings).fit(frame)
    seconds = time.perf_counter() - began
    scale = {s.key: mase_scale(s.y[: int(s.y.size * settings.train_fraction)])
             for s in forecast_series(frame, settings.step)}
    per = outcome.metrics["series"]
    columns = ("ensemble", *COLUMNS)
    label = {c: c.replace("ensemble_", "ens_") for c in columns}
    label["ensemble"] = f"ENSEMBLE({outcome.metrics['weighting']})"
    lines = [f"MASE at 15 min (3 steps), scale = in-sample seasonal-naive MAE (m = {SEASON}); "
             f"ensemble weighting = {outcome.metrics['weighting']} (the default); LSTM epochs {epochs}; "
             f"trained in {seconds:.0f} s",
             f"{'series':34}" + "".join(f"{label[c]:>17}" for c in columns)]
    table: dict[str, list[float]] = {c: [] for c in columns}
    for key, m in per.items():
        cells = []
        for c in columns:
            mae = m.get(f"mae_{c}")
            value = mae / scale[key] if mae is not None and scale.get(key) else float("nan")
            table[c].append(value)
            cells.append(value)
        lines.append(f"{key:34}" + "".join(f"{v:17.3f}" for v in cells))
    means = {c: float(np.nanmean(v)) for c, v in table.items()}
    lines.append(f"{'mean MASE':34}" + "".join(f"{means[c]:17.3f}" for c in columns))
    ens = np.asarray(table["ensemble"])
    for c in ("prophet", "arima", "lstm", "naive", "seasonal_naive"):
        wins = int(np.sum(ens < np.asarray(table[c])))
        lines.append(f"ensemble below {c}: {wins}/{len(ens)} series (mean MASE {means['ensemble']:.3f} vs "
                     f"{means[c]:.3f})")
    if plots:
        from bench.plots import grouped_bars

        plots.mkdir(parents=True, exist_ok=True)
        shown = ("ensemble", "prophet", "arima", "lstm", "naive", "seasonal_naive")
        path = grouped_bars([k.split("/", 1)[1].replace("_utilization", "") for k in per],
                            {label[c]: table[c] for c in shown}, "resource-forecast MASE at 15 min on NAB series "
                            "(lower is better; < 1 beats the in-sample seasonal-naive)", "MASE",
                            plots / "forecast_mase.png")
        lines.append(f"plot: {path}")
    return lines


def nab(epochs: int, limit: int | None, data: Path = nab_detector.NAB) -> tuple[list[str], list[nab_detector.FileRun]]:
    """Stream the NAB files through the deviation check; score it beside the published board."""
    runs = nab_detector.stream_all(data, epochs=epochs, limit=limit)
    scores = nab_detector.score_variants(runs)
    lines = [f"NAB score, standard profile (A_tp 1.0, A_fp -0.11, A_fn -1.0), {len(runs)} files, "
             f"{sum(len(r.windows) for r in runs)} windows: OURS IS ON THE INFRASTRUCTURE SUBSET HERE ONLY "
             f"(realAWSCloudwatch + machine_temperature), the published board is on the full 58-file corpus",
             f"{'detector':78} {'score':>7}  data"]
    for name, value in scores.items():
        lines.append(f"{name:78} {value:7.1f}  {len(runs)}-file subset")
    lines.append(f"{'perfect (every window at its first point)':78} {100.0:7.1f}  {len(runs)}-file subset")
    for name, value in PUBLISHED.items():
        lines.append(f"{name + ' (published, NAB v1.1 scoreboard)':78} {value:7.1f}  full corpus")
    lines += ["", *nab_detector.per_file(runs)]
    return lines, runs


def main() -> None:
    """Run the selected parts and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="forecast,nab,disk")
    parser.add_argument("--plots", type=Path)
    parser.add_argument("--nab", type=Path, default=nab_detector.NAB, help="the NAB folder (default: bench/data/nab)")
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",")}
    epochs = 2 if args.quick else 10
    began = time.perf_counter()
    print(f"machine: {machine()}")
    if "forecast" in parts:
        print("\n== resource-forecast MASE on NAB CloudWatch series ==")
        print("\n".join(forecast_mase(epochs, args.nab / "realAWSCloudwatch", args.plots)), flush=True)
    if "nab" in parts:
        print(f"\n== resource-forecast deviation check as a NAB detector ==  ({load_average()})", flush=True)
        lines, _ = nab(epochs, 4 if args.quick else None, args.nab)
        print("\n".join(lines), flush=True)
    if "disk" in parts:
        print(f"\n== disk-eta against predict_linear and the node-mixin alerts ==  ({load_average()})", flush=True)
        outcomes = disk_vs_predict_linear.run(args.quick)
        print("\n".join(disk_vs_predict_linear.tables(outcomes)))
        if args.plots:
            for path in disk_vs_predict_linear.plot(outcomes, args.plots):
                print(f"plot: {path}")
    print(f"\ntotal {time.perf_counter() - began:.0f} s; {load_average()}")


if __name__ == "__main__":
    main()
