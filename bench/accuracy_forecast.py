"""resource-forecast accuracy on real data at its native 5-minute step (the benchmark tables).

The real suite (:func:`real_frame`): the ten NAB files (AWS CloudWatch CPU, network, disk
and request counts, a machine temperature) and the Google and Azure 2019 cluster cpu and
memory traces, under ``--data`` (a folder holding ``nab/`` and ``clusters/``). Every
series goes through the real trainer with default settings at STEP 300 s (the data's
native step: the 15-minute horizon is 3 points): first 80 % to fit (its last 20 %
calibrates weights, Prophet's anchor and intervals). Two tables, each MAE divided by
the last-value naive MAE of the same forecasts, beside seasonal-naive (288 steps = one
day back):

1. the trainer's backtest, every cut point of the last 20 %;
2. the predictor's V1 API, ``--points`` requests per series spread over the last 20 %,
   each sending the ``--history-days`` before it as history (as an alerting service does).

    .venv/bin/python -m bench.accuracy_forecast --data DIR [--epochs 10] [--json out.json]

:func:`nab_frame` (six CloudWatch series, CPU in percent) feeds ``bench/accuracy.py``'s MASE table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine  # noqa: E402
from metrics_ai.families.forecast import ForecastPredictor  # noqa: E402
from metrics_ai.series import validate_frame  # noqa: E402
from metrics_ai.settings import load_settings  # noqa: E402
from training.families.forecast import ForecastTrainer  # noqa: E402
from training.forecast_series import SeriesData, forecast_series  # noqa: E402

#: the NAB CloudWatch series shipped with the repository (bench/data/nab/README.md says where from)
DATA = Path(__file__).resolve().parent / "data" / "nab" / "realAWSCloudwatch"
SERIES = {
    "ec2_cpu_utilization_24ae8d": "cpu",
    "ec2_cpu_utilization_53ea38": "cpu",
    "ec2_cpu_utilization_5f5533": "cpu",
    "ec2_cpu_utilization_77c1ca": "cpu",
    "rds_cpu_utilization_cc0c53": "cpu",
    "ec2_network_in_257a54": "net_rx",
}
COLUMNS = (
    "prophet",
    "arima",
    "lstm",
    "ensemble_equal",
    "ensemble_backtest",
    "ensemble_median",
    "naive",
    "seasonal_naive",
)


def nab_frame(data: Path) -> pd.DataFrame:
    """The NAB series as one canonical long frame: each file is a standalone node (CPU percent / 100:
    the cpu signal is a ratio)."""
    parts = []
    for name, signal in SERIES.items():
        raw = pd.read_csv(data / f"{name}.csv")
        parts.append(
            pd.DataFrame(
                {
                    "timestamp": pd.to_datetime(raw["timestamp"], utc=True),
                    "signal": signal,
                    "value": raw["value"] / (100.0 if signal == "cpu" else 1.0),
                    "node": name,
                    "cluster": "",
                }
            )
        )
    return validate_frame(pd.concat(parts, ignore_index=True), where="nab")


#: NAB files of the real suite: (file under the NAB folder, signal, divisor). CPU percentages become the
#: cpu signal's ratio; bytes, counts and the temperature are non-negative quantities (net_rx / net_tx:
#: bounded below by 0 only).
REAL_NAB = (
    ("realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv", "cpu", 100.0),
    ("realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv", "cpu", 100.0),
    ("realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv", "cpu", 100.0),
    ("realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv", "cpu", 100.0),
    ("realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv", "cpu", 100.0),
    ("realAWSCloudwatch/grok_asg_anomaly.csv", "cpu", 100.0),
    ("realAWSCloudwatch/ec2_network_in_257a54.csv", "net_rx", 1.0),
    ("realAWSCloudwatch/elb_request_count_8c0756.csv", "net_rx", 1.0),
    ("realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv", "net_tx", 1.0),
    ("realKnownCause/machine_temperature_system_failure.csv", "net_rx", 1.0),
)
#: the cluster traces carry no dates; both are placed from this (UTC) start
CLUSTER_START = pd.Timestamp("2019-05-01", tz="UTC")


def real_frame(root: Path) -> pd.DataFrame:
    """The real suite as one canonical frame: ``root/nab`` (the ten NAB files, each a standalone node)
    and ``root/clusters`` (google and azure cluster cpu and memory, each a cluster).

    Google's columns are fractions already; Azure's are cluster sums, divided by their maximum (a
    fraction of the month's peak) so that cpu and memory are ratios as the signals define them.
    Every series keeps its native 5-minute step.
    """
    parts = []
    for name, signal, divisor in REAL_NAB:
        raw = pd.read_csv(root / "nab" / name)
        parts.append(pd.DataFrame({"timestamp": pd.to_datetime(raw["timestamp"], utc=True), "signal": signal,
                                   "value": raw["value"] / divisor, "node": Path(name).stem, "cluster": ""}))
    google = pd.read_csv(root / "clusters" / "google2019_cluster_usage_300s.csv")
    azure = pd.read_csv(root / "clusters" / "azure2019_cluster_cpu_mem_300s.csv")
    clusters = (
        ("google2019", CLUSTER_START + pd.to_timedelta(300 * np.arange(len(google)), unit="s"),
         {"cpu": google["avg_cpu"], "memory": google["avg_mem"]}),
        ("azure2019", CLUSTER_START + pd.to_timedelta(azure["timestamp"], unit="s"),
         {"cpu": azure["cpu_usage"] / azure["cpu_usage"].max(),
          "memory": azure["assigned_mem"] / azure["assigned_mem"].max()}),
    )
    for cluster, stamps, columns in clusters:
        for signal, values in columns.items():
            parts.append(pd.DataFrame({"timestamp": stamps, "signal": signal, "value": values.to_numpy(),
                                       "node": "all", "cluster": cluster}))
    return validate_frame(pd.concat(parts, ignore_index=True), where=str(root))


SINGLES = ("prophet", "arima", "lstm")
RATIO_COLUMNS = ("ensemble", *SINGLES, "seasonal_naive")


def v1_errors(predictor: ForecastPredictor, data: SeriesData, points: int, history_days: float) -> dict[str, float]:
    """MAE of every column at ``points`` cuts of the held-out tail, asked through the V1 API.

    Each request sends the ``history_days`` before its cut as history; the answer's ensemble and
    components are scored against what followed, beside last-value and seasonal-naive (288 steps).
    """
    h = max(1, int(predictor.config.horizon_min * 60 // data.step))
    season = int(round(86400 / data.step))
    first = max(int(data.y.size * 0.8), int(history_days * 86400 / data.step), season)
    cuts = np.unique(np.linspace(first, data.y.size - 1 - h, points).round().astype(int))
    width = int(history_days * 86400 / data.step)
    instances = [{"entity": data.entity, "signal": data.signal,
                  "history": {"timestamps": data.t[c - width + 1 : c + 1].tolist(),
                              "values": data.y[c - width + 1 : c + 1].tolist()}} for c in cuts]
    answers = predictor.predict_v1(instances)
    errors: dict[str, list[float]] = {c: [] for c in (*RATIO_COLUMNS, "naive")}
    for c, answer in zip(cuts, answers, strict=True):
        actual = data.y[c + 1 : c + 1 + h]
        guesses = {"ensemble": answer["ensemble"], **answer["components"], "naive": np.full(h, data.y[c]),
                   "seasonal_naive": data.y[c + 1 - season : c + 1 - season + h]}
        for name, guess in guesses.items():
            if guess is not None and name in errors:
                errors[name].append(float(np.mean(np.abs(np.asarray(guess) - actual))))
    return {name: float(np.mean(v)) for name, v in errors.items() if v}


def ratio_table(title: str, maes: dict[str, dict[str, float]]) -> list[str]:
    """MAE over the naive MAE per series and column, the means, and the goals checked."""
    lines = [title, f"{'series':48}{'naive MAE':>12}" + "".join(f"{c:>15}" for c in RATIO_COLUMNS)]
    ratios: dict[str, list[float]] = {c: [] for c in RATIO_COLUMNS}
    for key, m in maes.items():
        cells = [m[c] / m["naive"] if m.get(c) is not None else float("nan") for c in RATIO_COLUMNS]
        for c, v in zip(RATIO_COLUMNS, cells, strict=True):
            ratios[c].append(v)
        lines.append(f"{key:48}{m['naive']:12.4g}" + "".join(f"{v:15.3f}" for v in cells))
    means = {c: float(np.nanmean(v)) for c, v in ratios.items()}
    lines.append(f"{'mean (MAE / naive MAE)':60}" + "".join(f"{means[c]:15.3f}" for c in RATIO_COLUMNS))
    below = [c for c in ("naive", *RATIO_COLUMNS[1:]) if means["ensemble"] < means.get(c, 1.0)]
    lines.append(f"ensemble below on average: {', '.join(below)} "
                 f"({len(below)}/{len(RATIO_COLUMNS)}: naive, seasonal_naive, {', '.join(SINGLES)})")
    worst = {c: float(np.nanmax(ratios[c])) for c in SINGLES}
    lines.append("worst series per component (x naive): " + ", ".join(f"{c} {v:.2f}" for c, v in worst.items())
                 + f"; any over 3x: {'yes' if max(worst.values()) > 3 else 'no'}")
    return lines


def main() -> None:
    """Train on the real suite and print the backtest and V1 tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding nab/ and clusters/")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--step", default="300s", help="STEP (the data's native 5 minutes)")
    parser.add_argument("--points", type=int, default=24, help="V1 requests per series")
    parser.add_argument("--history-days", type=float, default=2.0, help="history sent with each V1 request")
    parser.add_argument("--json", type=Path, default=None, help="also write the trainer's metrics here")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    settings = load_settings(step=args.step, lstm_epochs=args.epochs)
    frame = real_frame(args.data)
    start = time.perf_counter()
    outcome = ForecastTrainer(settings).fit(frame)
    seconds = time.perf_counter() - start
    print(f"settings: defaults, STEP {settings.step} s, weighting {outcome.metrics['weighting']}, "
          f"LSTM epochs {settings.lstm_epochs}; trained {len(outcome.metrics['series'])} series in {seconds:.0f} s"
          + (f"; skipped {outcome.skipped}" if outcome.skipped else ""))
    per = outcome.metrics["series"]
    backtest = {key: {c: m.get(f"mae_{c}") for c in (*RATIO_COLUMNS, "naive")} for key, m in per.items()}
    print("\n".join(ratio_table(f"backtest: every cut of the last 20 % ({settings.horizon_min} min ahead)", backtest)))
    predictor = outcome.predictor
    assert isinstance(predictor, ForecastPredictor)
    v1 = {s.key: v1_errors(predictor, s, args.points, args.history_days)
          for s in forecast_series(frame, settings.step) if s.key in per}
    print()
    print("\n".join(ratio_table(f"V1 API: {args.points} requests per series in the last 20 %, "
                                f"{args.history_days:g} days of history each", v1)))
    if args.json:
        args.json.write_text(json.dumps({"metrics": outcome.metrics, "v1": v1}, indent=1, default=str))


if __name__ == "__main__":
    main()
