"""Fixtures of the serving tests: disk-eta and io-crisis trained on tiny and served by a real predictor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from metrics_ai.settings import Settings
from tests.conftest import Predictor, train_into

DISK_IO = ("disk-eta", "io-crisis")
#: no live source: requests without history are answered from the training-time state
NO_PROMETHEUS = {"PROMETHEUS_URL": "", "METRICS_AI_PROMETHEUS_URL": ""}


@pytest.fixture(scope="session")
def disk_io_models(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings) -> Path:
    """disk-eta and io-crisis trained on the tiny profile (read-only: copy to mutate)."""
    return train_into(tmp_path_factory.mktemp("disk-io-models"), tiny_frame, settings, list(DISK_IO))


@pytest.fixture(scope="module")
def disk_io_server(disk_io_models: Path) -> Iterator[Predictor]:
    """One predictor serving disk-eta and io-crisis for a whole test module, both ready."""
    predictor = Predictor(disk_io_models, ",".join(DISK_IO), env=NO_PROMETHEUS)
    try:
        predictor.wait_live()
        deadline = time.monotonic() + 30
        while not all(_ready(predictor, name) for name in DISK_IO):
            assert time.monotonic() < deadline, f"not ready:\n{predictor.log.read_text()}"
            time.sleep(0.2)
        yield predictor
    finally:
        predictor.stop()


def _ready(predictor: Predictor, name: str) -> bool:
    r = predictor.client.get(f"/v1/models/{name}")
    return r.status_code == 200 and r.json().get("ready") is True
