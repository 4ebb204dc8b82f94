"""resource-forecast accuracy on real data at its native 5-minute step, through the public CLI and V1 API.

The real suite (:func:`real_frame`): the ten NAB files (AWS CloudWatch CPU, network, disk
and request counts, a machine temperature) and the Google and Azure 2019 cluster cpu and
memory traces, under ``--data`` (a folder holding ``nab/`` and ``clusters/``; default the
copies in ``bench/data``). The suite is written as the files source's long CSV and trained
with ``python -m training run --source files`` and default settings (training detects each
series' native 5-minute step: the 15-minute horizon is 3 points): first 80 % to fit (its
last 20 % calibrates weights, Prophet's anchor and intervals). Tables, each MAE divided by
the last-value naive MAE of the same forecasts, beside seasonal-naive (288 steps = one
day back):

1. the trainer's backtest, every cut point of the last 20 % (the published manifest's metrics);
2. ``python -m serving --model-dir`` asked over HTTP (V1), one table per ``--points`` value:
   that many requests per series spread over the last 20 %, each sending the
   ``--history-days`` before it as history (as an alerting service does).

    .venv/bin/python -m bench.accuracy_forecast [--data DIR] [--points 24 200] [--json out.json]

:func:`nab_frame` (six CloudWatch series, CPU in percent) feeds ``bench/accuracy.py``'s MASE table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import metrics_ai.families  # noqa: E402, F401  (the families load before training's modules import them)
from bench.common import machine  # noqa: E402
from bench.forecast_public import MODEL, manifest_metrics, predictor, train, v1_errors, write_csv  # noqa: E402
from metrics_ai.series import validate_frame  # noqa: E402
from metrics_ai.settings import load_settings  # noqa: E402
from training.families.forecast.series import forecast_series  # noqa: E402

#: the real suite shipped with the repository: nab/ and clusters/ (their READMEs say where from)
BENCH_DATA = Path(__file__).resolve().parent / "data"
#: the NAB CloudWatch series (bench/data/nab/README.md says where from)
DATA = BENCH_DATA / "nab" / "realAWSCloudwatch"
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


def real_frame(root: Path, clusters_dir: Path | None = None) -> pd.DataFrame:
    """The real suite as one canonical frame: ``root/nab`` (the ten NAB files, each a standalone node)
    and ``root/clusters`` (google and azure cluster cpu and memory, each a cluster).

    Google's columns are fractions already; Azure's are cluster sums, divided by their maximum (a
    fraction of the month's peak) so that cpu and memory are ratios as the signals define them.
    Every series keeps its native 5-minute step.
    """
    parts = []
    for name, signal, divisor in REAL_NAB:
        raw = pd.read_csv(root / "nab" / name)
        parts.append(
            pd.DataFrame(
                {
                    "timestamp": pd.to_datetime(raw["timestamp"], utc=True),
                    "signal": signal,
                    "value": raw["value"] / divisor,
                    "node": Path(name).stem,
                    "cluster": "",
                }
            )
        )
    clusters_dir = clusters_dir or root / "clusters"
    google = pd.read_csv(clusters_dir / "google2019_cluster_usage_300s.csv")
    azure = pd.read_csv(clusters_dir / "azure2019_cluster_cpu_mem_300s.csv")
    clusters = (
        (
            "google2019",
            CLUSTER_START + pd.to_timedelta(300 * np.arange(len(google)), unit="s"),
            {"cpu": google["avg_cpu"], "memory": google["avg_mem"]},
        ),
        (
            "azure2019",
            CLUSTER_START + pd.to_timedelta(azure["timestamp"], unit="s"),
            {
                "cpu": azure["cpu_usage"] / azure["cpu_usage"].max(),
                "memory": azure["assigned_mem"] / azure["assigned_mem"].max(),
            },
        ),
    )
    for cluster, stamps, columns in clusters:
        for signal, values in columns.items():
            parts.append(
                pd.DataFrame(
                    {
                        "timestamp": stamps,
                        "signal": signal,
                        "value": values.to_numpy(),
                        "node": "all",
                        "cluster": cluster,
                    }
                )
            )
    return validate_frame(pd.concat(parts, ignore_index=True), where=str(root))


SINGLES = ("prophet", "arima", "lstm")
RATIO_COLUMNS = ("ensemble", *SINGLES, "seasonal_naive")


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
    lines.append(
        f"ensemble below on average: {', '.join(below)} "
        f"({len(below)}/{len(RATIO_COLUMNS)}: naive, seasonal_naive, {', '.join(SINGLES)})"
    )
    worst = {c: float(np.nanmax(ratios[c])) for c in SINGLES}
    lines.append(
        "worst series per component (x naive): "
        + ", ".join(f"{c} {v:.2f}" for c, v in worst.items())
        + f"; any over 3x: {'yes' if max(worst.values()) > 3 else 'no'}"
    )
    return lines


def main() -> None:
    """Train through the CLI, serve, ask over V1; print the backtest and V1 tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=BENCH_DATA, help="folder holding nab/ and clusters/")
    parser.add_argument("--clusters", type=Path, default=None, help="cluster traces folder (default: DATA/clusters)")
    parser.add_argument(
        "--points", type=int, nargs="+", default=[24, 200], help="V1 requests per series (one table each)"
    )
    parser.add_argument("--history-days", type=float, default=2.0, help="history sent with each V1 request")
    parser.add_argument(
        "--keep", type=Path, default=None, help="train into this folder and keep it (a model already there is reused)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the metrics and V1 figures here")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    settings = load_settings()
    frame = real_frame(args.data, args.clusters)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        csv = write_csv(frame, work / "suite.csv")
        reuse = args.keep is not None and (work / "models" / MODEL / "manifest.json").exists()
        seconds = 0.0 if reuse else train(csv, work / "models")
        metrics = manifest_metrics(work / "models")
        per = metrics["series"]
        print(
            f"python -m training run --source files --data suite.csv --out models --models {MODEL}: "
            f"default settings (STEP {settings.step} s, weighting {metrics.get('weighting')}, "
            f"LSTM epochs {settings.lstm_epochs}); {len(per)} series "
            f"{'(reused)' if reuse else f'in {seconds:.0f} s'}; detected steps: "
            + ", ".join(f"{sig} {'/'.join(map(str, st))} s" for sig, st in metrics.get("step_seconds", {}).items())
        )
        backtest = {key: {c: m.get(f"mae_{c}") for c in (*RATIO_COLUMNS, "naive")} for key, m in per.items()}
        print(
            "\n".join(
                ratio_table(
                    f"backtest (manifest): every cut of the last 20 % ({settings.horizon_min} min ahead)", backtest
                )
            )
        )
        gated = {key: m["gated"] for key, m in per.items() if m.get("gated")}
        print(
            "gated (not served for that series; calibration MAE x naive): "
            + ("; ".join(f"{k} {', '.join(f'{c} {r:.2f}' for c, r in g.items())}" for k, g in gated.items()) or "none")
        )
        series = [s for s in forecast_series(frame, settings.step) if s.key in per]
        v1: dict[int, dict[str, dict]] = {}
        with predictor(work / "models") as client:
            for points in args.points:
                v1[points] = {
                    s.key: v1_errors(
                        client, s, points, args.history_days, settings.horizon_min, settings.train_fraction
                    )
                    for s in series
                }
                print()
                print(
                    "\n".join(
                        ratio_table(
                            f"V1 API over HTTP: {points} requests per series in the last 20 %, "
                            f"{args.history_days:g} days of history each",
                            v1[points],
                        )
                    )
                )
                notes = sorted({n for m in v1[points].values() for n in m["notes"]})
                print("notes in the answers: " + ("; ".join(notes) if notes else "none"))
    if args.json:
        args.json.write_text(json.dumps({"metrics": metrics, "v1": v1}, indent=1, default=str))


if __name__ == "__main__":
    main()
