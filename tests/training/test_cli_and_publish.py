"""Training CLI end to end: train, files source, quality gate (exit 3), versions, rollback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from metrics_ai.artifacts import ModelStore
from tests.conftest import REPO
from training.publish import gate_reason


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "training", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_run_publishes_prints_summary_and_report(tmp_path: Path) -> None:
    done = run_cli("run", "--out", str(tmp_path), "--models", "anomaly-detector,node-outliers", "--profile", "tiny")
    assert done.returncode == 0, done.stderr
    assert "anomaly-detector" in done.stdout and "current" in done.stdout
    for model in ("anomaly-detector", "node-outliers"):
        manifest = ModelStore(tmp_path, model).current()
        assert manifest.data.source == "synthetic:tiny" and manifest.data.rows > 0
        assert "numpy" in manifest.libraries and manifest.files
    assert (tmp_path / "anomaly-detector" / "model.pkl").is_file()
    [report] = list((tmp_path / "reports").iterdir())
    summary = json.loads((report / "summary.json").read_text())
    assert [m["model"] for m in summary["models"]] == ["anomaly-detector", "node-outliers"]


def test_worse_model_is_rejected_with_exit_3_and_current_stays(tmp_path: Path) -> None:
    first = run_cli("run", "--out", str(tmp_path), "--models", "anomaly-detector", "--profile", "tiny")
    assert first.returncode == 0, first.stderr
    store = ModelStore(tmp_path, "anomaly-detector")
    current = store.current_version()
    # No anomalies in the data: nothing to detect, F1 0 -> gate figure far worse.
    worse = run_cli(
        "run", "--out", str(tmp_path), "--models", "anomaly-detector", "--profile", "tiny", env={"ANOMALY_RATE": "0"}
    )
    assert worse.returncode == 3, worse.stdout + worse.stderr
    assert "REJECTED" in worse.stdout
    assert store.current_version() == current
    [rejected] = [v for v in store.versions() if v != current]
    assert "quality gate" in store.rejected()[rejected]
    listing = run_cli("versions", "--out", str(tmp_path), "--model", "anomaly-detector")
    assert "rejected: quality gate" in listing.stdout and "current" in listing.stdout


def test_files_source_trains_from_long_csv_and_parquet(tmp_path: Path, tiny_frame: pd.DataFrame) -> None:
    frame = tiny_frame.copy()
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    half = len(frame) // 2
    (tmp_path / "data").mkdir()
    frame.iloc[:half].to_csv(tmp_path / "data" / "a.csv", index=False)
    frame.iloc[half:].to_parquet(tmp_path / "data" / "b.parquet", index=False)
    done = run_cli(
        "run",
        "--source",
        "files",
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "m"),
        "--models",
        "node-outliers",
    )
    assert done.returncode == 0, done.stderr
    assert ModelStore(tmp_path / "m", "node-outliers").current().data.source.startswith("files:")


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run_cli("run", "--out", str(tmp_path), "--models", "nope").returncode == 2
    assert run_cli("rollback", "--out", str(tmp_path), "--model", "anomaly-detector").returncode == 2


@pytest.mark.parametrize(
    ("current", "candidate", "rejected"),
    [
        (None, {"mae": 5.0}, False),
        ({"mae": 1.0}, {"mae": 1.09}, False),
        ({"mae": 1.0}, {"mae": 1.2}, True),
        ({"mae": 1.0, "rmse": 2.0}, {"mae": 0.5, "rmse": 2.5}, True),
        ({"mae": 1.0}, {}, False),
        ({"errors": 0.0}, {"errors": 0.005}, False),
        ({"errors": 0.0}, {"errors": 0.05}, True),
    ],
)
def test_gate(current, candidate, rejected: bool) -> None:
    assert bool(gate_reason(current, candidate, 0.10)) is rejected
