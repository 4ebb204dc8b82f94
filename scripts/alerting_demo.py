"""`make run`'s alerting step: a local Prometheus with the demo cluster, one pass of `python -m alerting`.

Fills a throwaway Prometheus (promtool backfill, the same exporter writer the tests use)
with three days of the demo profile's prod-east cluster and standalone node as
node-exporter, cAdvisor and kube-state-metrics series, runs the alerting client once
against it and the predictor at --url, and prints a selection of the gauges it exposes.
Without `prometheus`/`promtool` on PATH it says how to get them and exits 0.

    python scripts/alerting_demo.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHOW = (
    "metrics_ai_disk_days_to_full",
    "metrics_ai_crisis_days{",
    'metrics_ai_forecast{cluster="prod-east",entity="prod-east"',
    "metrics_ai_node_outlier{",
    "metrics_ai_cluster_anomaly",
    "metrics_ai_alerting_passes_total",
    "metrics_ai_alerting_pass_duration",
    "metrics_ai_alerting_entities",
)


def main() -> int:
    """Fill, run one pass, print; 0 unless the pass itself failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the running predictor")
    parser.add_argument("--days", type=float, default=3.0)
    args = parser.parse_args()
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        print(
            "Alerting path skipped: it needs Prometheus (prometheus and promtool on PATH).\n"
            "  Debian/Ubuntu: sudo apt-get install prometheus   (or: make test-deps)\n"
            "then `make run` again shows the alerting client's gauges too."
        )
        return 0
    import pandas as pd

    from tests.prometheus_fixture import CLUSTER, SCRAPE, backfill_and_serve, stop_process
    from training.sources.profiles import get_profile
    from training.sources.synthetic import generate

    end = pd.Timestamp.now(tz="UTC").floor(f"{SCRAPE}s")
    truth = generate(get_profile("demo"), args.days, SCRAPE, anomaly_rate=0.0, seed=42, end=end)
    truth = truth[truth["cluster"].isin([CLUSTER, ""])]  # the writer labels one cluster (and standalone nodes)
    grid = pd.date_range(end=end, periods=int(args.days * 86400 // SCRAPE), freq=f"{SCRAPE}s")
    with tempfile.TemporaryDirectory(prefix="metrics-ai-demo-prometheus-") as tmp:
        proc, prom_url, samples = backfill_and_serve(Path(tmp), truth, grid)
        try:
            print(
                f"Prometheus on {prom_url}: {samples:,} samples of the demo cluster {CLUSTER} "
                f"({truth['node'].nunique()} nodes, {args.days:g} days)."
            )
            cmd = [sys.executable, "-m", "alerting", "--once", "--prometheus", prom_url, "--predictor", args.url]
            print("$ python -m alerting --once --prometheus", prom_url, "--predictor", args.url, flush=True)
            run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
        finally:
            stop_process(proc)
    lines = [line for line in run.stdout.splitlines() if line.startswith(SHOW)]
    print("\n".join(lines) if lines else run.stdout)
    print(
        f"({len(run.stdout.splitlines())} series in all; in a cluster, Prometheus scrapes them from :9105/metrics"
        " and the chart's PrometheusRule turns them into alerts)"
    )
    if run.returncode:
        print(run.stderr[-3000:], file=sys.stderr)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
