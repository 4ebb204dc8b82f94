"""resource-forecast accuracy on real NAB CloudWatch series (the benchmark table).

Each series (5-minute step, so the 15-minute horizon is 3 points) goes through the
real trainer: first 80 % to fit (its last 20 % calibrates weights, Prophet's
residual correction and intervals), forecasts at every cut point of the last 20 %.
Prints MAE per component, both ensembles, last-value naive and seasonal-naive
(one day = 288 steps back), and the 80 % interval coverage.

    .venv/bin/python bench/accuracy_forecast.py [--epochs 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics_ai.series import validate_frame  # noqa: E402
from metrics_ai.settings import load_settings  # noqa: E402
from training.families.forecast import ForecastTrainer  # noqa: E402

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
    """The NAB series as one canonical long frame: each file is a standalone node."""
    parts = []
    for name, signal in SERIES.items():
        raw = pd.read_csv(data / f"{name}.csv")
        parts.append(
            pd.DataFrame(
                {
                    "timestamp": pd.to_datetime(raw["timestamp"], utc=True),
                    "signal": signal,
                    "value": raw["value"],
                    "node": name,
                    "cluster": "",
                }
            )
        )
    return validate_frame(pd.concat(parts, ignore_index=True), where="nab")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--weighting", choices=["equal", "backtest"], default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = parser.parse_args()
    settings = load_settings(step=300, lstm_epochs=args.epochs, ensemble_weighting=args.weighting)
    start = time.perf_counter()
    outcome = ForecastTrainer(settings).fit(nab_frame(args.data))
    seconds = time.perf_counter() - start
    per = outcome.metrics["series"]
    head = f"{'series':34s}" + "".join(f"{c.replace('ensemble_', 'ens_'):>13s}" for c in COLUMNS) + f"{'cover80':>9s}"
    print(f"MAE at 15 min (3 steps), weighting={outcome.metrics['weighting']}, trained in {seconds:.0f} s")
    print(head)
    wins = 0
    for key, m in per.items():
        row = [m.get(f"mae_{c}") for c in COLUMNS]
        print(
            f"{key:34s}"
            + "".join(f"{v:13.5g}" if v is not None else f"{'-':>13s}" for v in row)
            + f"{m.get('coverage_80', float('nan')):9.2f}"
        )
        singles = [m.get(f"mae_{c}") for c in ("prophet", "arima", "lstm", "naive", "seasonal_naive")]
        wins += all(m["mae_ensemble"] < v for v in singles if v is not None)
    rel = outcome.metrics["mae_rel"]
    print(
        f"{'mean MAE / mean |level|':34s}"
        + "".join(f"{rel.get(c, float('nan')):13.4f}" for c in COLUMNS)
        + f"{outcome.metrics['coverage_80']:9.2f}"
    )
    print(
        f"ensemble ({outcome.metrics['weighting']}) below every single component and both naives "
        f"on {wins}/{len(per)} series"
    )
    best = {c: rel[c] for c in ("prophet", "arima", "lstm", "naive", "seasonal_naive") if c in rel}
    print(
        f"mean relative MAE: ensemble {rel['ensemble']:.4f} "
        f"vs best single {min(best, key=best.__getitem__)} "
        f"{min(best.values()):.4f}"
    )
    if args.json:
        args.json.write_text(json.dumps(outcome.metrics, indent=1, default=str))


if __name__ == "__main__":
    main()
