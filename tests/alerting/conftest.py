"""Fixtures of the alerting tests: the real Prometheus fixture, all five models trained on tiny, real predictors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from alerting.exporter import Exporter
from alerting.loop import Runner
from alerting.passes import Pass
from alerting.settings import MODELS, AlertingSettings
from metrics_ai.settings import Settings
from tests.conftest import Predictor, train_into
from tests.prometheus_fixture import PromData, prometheus_data  # noqa: F401

#: the predictor answers from the history the client sends, never from its own fetches
NO_PROMETHEUS = {"PROMETHEUS_URL": "", "METRICS_AI_PROMETHEUS_URL": ""}
Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="session")
def all_models(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings) -> Path:
    """The five models trained on the tiny profile (1 LSTM epoch; read-only)."""
    fast = settings.model_copy(update={"lstm_epochs": 1})
    return train_into(tmp_path_factory.mktemp("alerting-models"), tiny_frame, fast, list(MODELS))


def wait_ready(predictor: Predictor, models: tuple[str, ...] | list[str], timeout: float = 60) -> None:
    """Block until every named model answers ready."""
    deadline = time.monotonic() + timeout
    for name in models:
        while predictor.client.get(f"/v1/models/{name}").json().get("ready") is not True:
            assert time.monotonic() < deadline, f"{name} not ready:\n{predictor.log.read_text()[-3000:]}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def predictor(all_models: Path) -> Iterator[Predictor]:
    """One predictor serving all five models for a whole test module."""
    server = Predictor(all_models, env=NO_PROMETHEUS)
    try:
        server.wait_live()
        wait_ready(server, MODELS)
        yield server
    finally:
        server.stop()


class Client:
    """A Pass, its Runner and a started Exporter on a free port, evaluating as of ``now``."""

    def __init__(self, settings: Settings, options: AlertingSettings, now: float) -> None:
        self.now = now
        self.passes = Pass(settings, options, clock=lambda: self.now)
        self.exporter = Exporter("127.0.0.1", 0)
        self.exporter.start()
        self.runner = Runner(self.passes, self.exporter, options.interval)
        self.url = f"http://127.0.0.1:{self.exporter.port}"

    def scrape(self) -> Series:
        """GET /metrics over HTTP: {(name, sorted labels): value} of every metrics_ai_* sample."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        out: Series = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name.startswith("metrics_ai_"):
                    out[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return out

    def close(self) -> None:
        """Stop the exporter and the clients."""
        self.exporter.stop()
        self.passes.close()


@pytest.fixture
def make_client(
    prometheus_data: PromData,  # noqa: F811
) -> Iterator[Callable[..., Client]]:
    """Factory: a client against the fixture Prometheus, as of its data end; all closed after the test."""
    made: list[Client] = []

    def make(prometheus_url: str | None = None, now: float | None = None, **options: object) -> Client:
        settings = Settings(prometheus_url=prometheus_url or prometheus_data.url)
        client = Client(
            settings,
            AlertingSettings(**{"predictor_retries": 0, "predictor_timeout": 60, **options}),  # type: ignore[arg-type]
            now if now is not None else prometheus_data.end.timestamp(),
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def series_of(scraped: Series, name: str, **labels: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of ``name`` whose labels include ``labels``."""
    return {
        key: value
        for (metric, key), value in scraped.items()
        if metric == name and all(dict(key).get(k, "") == v for k, v in labels.items())
    }
