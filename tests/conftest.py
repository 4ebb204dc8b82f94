"""Shared fixtures: tiny synthetic data, models trained into tmp dirs, a real predictor process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from metrics_ai.families import MODEL_NAMES
from metrics_ai.settings import Settings, load_settings
from training.families.base import no_progress
from training.pipeline import run_training
from training.sources import window_of
from training.sources.profiles import get_profile
from training.sources.synthetic import generate

REPO = Path(__file__).resolve().parents[1]
FIXED_END = pd.Timestamp("2026-11-16 12:00", tz="UTC")


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Default settings (environment-independent)."""
    return load_settings()


@pytest.fixture(scope="session")
def tiny_frame() -> pd.DataFrame:
    """Three days of the tiny profile at 60 s, fixed end time."""
    profile = get_profile("tiny")
    return generate(profile, profile.days or 3, step=60, anomaly_rate=0.03, seed=42, end=FIXED_END)


def train_into(root: Path, frame: pd.DataFrame, settings: Settings, models: list[str]) -> Path:
    """Train and publish ``models`` into ``root``; assert every one became current."""
    runs = run_training(frame, window_of(frame, "synthetic:tiny"), settings, root, models, lambda _: no_progress)
    for run in runs:
        assert run.ok, (run.model, run.error, run.published)
    return root


@pytest.fixture(scope="session")
def basic_models(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings) -> Path:
    """anomaly-detector and node-outliers trained on the tiny profile (read-only: copy to mutate)."""
    return train_into(tmp_path_factory.mktemp("models"), tiny_frame, settings, ["anomaly-detector", "node-outliers"])


@pytest.fixture(scope="session")
def all_models(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings) -> Path:
    """All five models trained on the tiny profile, 1 LSTM epoch (read-only: copy to mutate)."""
    fast = settings.model_copy(update={"lstm_epochs": 1})
    return train_into(tmp_path_factory.mktemp("all-models"), tiny_frame, fast, list(MODEL_NAMES))


class Predictor:
    """A real ``python -m serving`` process on ephemeral ports."""

    def __init__(self, model_dir: Path, models: str = "all", env: dict[str, str] | None = None) -> None:
        self.http_port, self.grpc_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.log = model_dir.parent / f"predictor-{self.http_port}.log"
        cmd = [sys.executable, "-m", "serving", "--model-dir", str(model_dir), "--models", models,
               "--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port)]
        full_env = {**os.environ, "METRICS_AI_RELOAD_INTERVAL": "0.5", **(env or {})}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def wait_live(self, timeout: float = 60) -> None:
        """Block until the HTTP server answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"predictor exited:\n{self.log.read_text()}"
            try:
                if self.client.get("/").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"predictor not live after {timeout}s:\n{self.log.read_text()}")

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until the server is live and every model it serves is ready (``/v2/health/ready``)."""
        self.wait_live(timeout)
        deadline = time.monotonic() + timeout
        while self.client.get("/v2/health/ready").status_code != 200:
            assert time.monotonic() < deadline, f"models not ready after {timeout}s:\n{self.log.read_text()}"
            time.sleep(0.2)

    def alive(self) -> bool:
        """The process runs and answers."""
        return self.proc.poll() is None and self.client.get("/").status_code == 200

    def stop(self) -> None:
        """Terminate the process."""
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start_predictor() -> Iterator[Callable[..., Predictor]]:
    """Factory: start a predictor on a model dir; every one started is stopped after the test."""
    started: list[Predictor] = []

    def start(model_dir: Path, models: str = "all", env: dict[str, str] | None = None) -> Predictor:
        predictor = Predictor(model_dir, models, env)
        started.append(predictor)
        predictor.wait_live()
        return predictor

    yield start
    for predictor in started:
        predictor.stop()


@pytest.fixture(scope="module")
def basic_server(basic_models: Path) -> Iterator[Predictor]:
    """One predictor serving the basic models for a whole test module."""
    predictor = Predictor(basic_models)
    predictor.wait_live()
    yield predictor
    predictor.stop()
