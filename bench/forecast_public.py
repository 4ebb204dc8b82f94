"""resource-forecast through its public surfaces: the training CLI and the predictor's V1 HTTP API.

Used by ``bench/accuracy_forecast.py``: the suite is written as the files source's long CSV,
trained with ``python -m training run --source files`` (default settings), served by
``python -m serving --model-dir`` on free ports, and asked over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pandas as pd

from bench.common import REPO, free_port, start, stop

if TYPE_CHECKING:
    from training.families.forecast.series import SeriesData

MODEL = "resource-forecast"
#: instances per V1 request: 2 days at 5 minutes is about 20 kB each, far inside MAX_BODY_BYTES (4 MiB)
#: and MAX_INSTANCES (10,000)
BATCH = 24


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """The suite as the files source reads it: ``timestamp,signal,value,cluster,node`` (ISO UTC)."""
    out = frame[["timestamp", "signal", "value", "cluster", "node"]].copy()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(path, index=False)
    return path


def train(csv: Path, out: Path) -> float:
    """``python -m training run --source files`` with the caller's environment; seconds taken."""
    cmd = [
        sys.executable,
        "-m",
        "training",
        "run",
        "--source",
        "files",
        "--data",
        str(csv),
        "--out",
        str(out),
        "--models",
        MODEL,
    ]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


def manifest_metrics(out: Path) -> dict[str, Any]:
    """The published model's metrics (``out/resource-forecast/manifest.json``)."""
    manifest = json.loads((out / MODEL / "manifest.json").read_text())
    return dict(manifest["metrics"])


@contextmanager
def predictor(model_dir: Path) -> Iterator[httpx.Client]:
    """``python -m serving --model-dir`` serving resource-forecast on free ports, until the block ends."""
    http_port, grpc_port = free_port(), free_port()
    url = f"http://127.0.0.1:{http_port}"
    cmd = [
        sys.executable,
        "-m",
        "serving",
        "--model-dir",
        str(model_dir),
        "--models",
        MODEL,
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
    ]
    proc, _ = start(cmd, url, "/v2/health/ready", timeout=300)
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            yield client
    finally:
        stop(proc)


def held_out_cuts(data: SeriesData, points: int, history: int, horizon: int, train_fraction: float) -> np.ndarray:
    """``points`` cut indices spread over the held-out tail, each with ``history`` points before it."""
    season = int(round(86400 / data.step))
    first = max(int(data.y.size * train_fraction), history, season)
    return np.unique(np.linspace(first, data.y.size - 1 - horizon, points).round().astype(int))


def v1_errors(
    client: httpx.Client, data: SeriesData, points: int, history_days: float, horizon_min: int, train_fraction: float
) -> dict[str, Any]:
    """MAE of the ensemble, each component, naive and seasonal-naive at held-out cuts, asked over V1.

    Each request sends the ``history_days`` before its cut as history (as an alerting service does).
    A component the answer leaves out (``null``) is not scored; its notes are kept.
    """
    h = max(1, int(horizon_min * 60 // data.step))
    season = int(round(86400 / data.step))
    width = int(history_days * 86400 / data.step)
    cuts = held_out_cuts(data, points, width, h, train_fraction)
    instances = [
        {
            "entity": data.entity,
            "signal": data.signal,
            "history": {
                "timestamps": data.t[c - width + 1 : c + 1].tolist(),
                "values": data.y[c - width + 1 : c + 1].tolist(),
            },
        }
        for c in cuts
    ]
    answers: list[dict[str, Any]] = []
    for i in range(0, len(instances), BATCH):
        r = client.post(f"/v1/models/{MODEL}:predict", json={"instances": instances[i : i + BATCH]})
        if r.status_code != 200:
            raise SystemExit(f"{data.key}: HTTP {r.status_code}: {r.text[:500]}")
        answers.extend(r.json()["predictions"])
    errors: dict[str, list[float]] = {}
    notes: set[str] = set()
    for c, answer in zip(cuts, answers, strict=True):
        actual = data.y[c + 1 : c + 1 + h]
        guesses = {
            "ensemble": answer["ensemble"],
            **answer["components"],
            "naive": np.full(h, data.y[c]),
            "seasonal_naive": data.y[c + 1 - season : c + 1 - season + h],
        }
        for name, guess in guesses.items():
            if guess is not None:
                errors.setdefault(name, []).append(float(np.mean(np.abs(np.asarray(guess) - actual))))
        notes.update(answer.get("notes") or [])
    return {**{name: float(np.mean(v)) for name, v in errors.items()}, "notes": sorted(notes)}
