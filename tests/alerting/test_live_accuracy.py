"""Live accuracy through the real predictor: a client runs two passes; the second's history
holds what really happened after the first's forecasts.

* With histories from a fake reader (the tiny profile's series, and after the first pass's
  end exactly its forecasts plus a known offset): the live MAE per signal is that offset,
  the coverage the share of offsets inside the intervals, and the live/backtest ratio the
  alert compares crosses the chart's default margin only when the offset is large.
* Against the real Prometheus fixture: two passes half an hour apart score the first's
  points against real reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alerting.reads import Reader, Window
from alerting.settings import AlertingSettings
from metrics_ai.families.forecast.config import CLUSTER_SIGNALS
from metrics_ai.prometheus import CanonicalSeries
from metrics_ai.settings import Settings
from tests.alerting.conftest import Client, series_of
from tests.chart.conftest import CHART_DIR, load_values
from tests.conftest import FIXED_END, Predictor

MODEL = "resource-forecast"
SIGNALS = ("cpu", "memory", "io_wait", "net_rx", "net_tx")
Override = dict[tuple[str, str, str], dict[float, float]]
"""(signal, cluster, node) -> {timestamp: value} replacing the profile's data."""


class FakeReader(Reader):
    """Serves windows from a canonical frame, with overrides, instead of querying Prometheus."""

    def __init__(self, settings: Settings, frame: pd.DataFrame) -> None:
        super().__init__(settings, workers=2)
        self.series = {
            (str(s), str(c), str(n)): (g["timestamp"].astype("int64").to_numpy() // 10**9, g["value"].to_numpy())
            for (s, c, n), g in frame.groupby(["signal", "cluster", "node"], observed=True)
        }
        self.override: Override = {}

    def read(self, window: Window, end: int) -> list[CanonicalSeries]:
        stop = end // window.step * window.step
        out = []
        for (signal, cluster, node), (ts, vs) in self.series.items():
            if signal != window.signal:
                continue
            values = dict(zip(ts.tolist(), vs.tolist(), strict=True))
            values.update(self.override.get((signal, cluster, node), {}))
            keep = sorted(t for t in values if stop - window.seconds < t <= stop)
            t = np.asarray(keep, dtype=np.float64)
            v = np.asarray([values[k] for k in keep], dtype=np.float64)
            out.append(CanonicalSeries(signal, cluster, node, "/" if signal == "disk_used_pct" else "", t, v, {}))
        return out


def recorded(client: Client) -> list[tuple[list[Any], list[Any]]]:
    """Record every (instances, answers) the client's predictor calls return."""
    calls: list[tuple[list[Any], list[Any]]] = []
    predict = client.passes.client.predict

    def record(model: str, instances: list[Any]) -> list[Any]:
        answers = predict(model, instances)
        calls.append((instances, answers))
        return answers

    client.passes.client.predict = record  # type: ignore[method-assign]
    return calls


def come_true(reader: FakeReader, calls: list[tuple[list[Any], list[Any]]], times_backtest: float) -> dict:
    """Make each forecast point happen ``times_backtest`` x its signal's backtest MAE above the forecast;
    the figures to expect per signal."""
    answers = [a for _, batch in calls for a in batch]
    backtest = {s: np.mean([a["backtest"]["mae_ensemble"] for a in answers if a["signal"] == s]) for s in SIGNALS}
    offset = {s: times_backtest * backtest[s] for s in SIGNALS}
    nodes = {(c, n) for (_, c, n) in reader.series}
    errors: dict[str, list[float]] = {}
    inside: dict[str, list[bool]] = {}
    for instances, answers in calls:
        for inst, answer in zip(instances, answers, strict=True):
            signal, entity = inst["signal"], inst["entity"]
            times = pd.to_datetime(answer["timestamps"]).astype("int64") // 10**9
            actual = np.maximum(np.asarray(answer["ensemble"]) + offset[signal], 0.0)  # the client clips at 0
            if signal in CLUSTER_SIGNALS and not entity.startswith("standalone"):
                targets = [(c, n) for c, n in nodes if c == entity]  # the cluster mean is every node's value
            else:
                targets = [(c, n) for c, n in nodes if n == entity]
            for c, n in targets:
                reader.override.setdefault((signal, c, n), {}).update(zip(times.tolist(), actual.tolist(), strict=True))
            errors.setdefault(signal, []).extend(np.abs(actual - answer["ensemble"]).tolist())
            lo, hi = np.asarray(answer["lower"]), np.asarray(answer["upper"])
            inside.setdefault(signal, []).extend(((lo <= actual) & (actual <= hi)).tolist())
    return {
        s: {"mae": np.mean(errors[s]), "coverage": np.mean(inside[s]), "n": len(errors[s]), "bt": backtest[s]}
        for s in errors
    }


@pytest.fixture
def fake_client(predictor: Predictor, tiny_frame: pd.DataFrame) -> Iterator[Callable[[], tuple[Client, FakeReader]]]:
    made: list[Client] = []

    def make() -> tuple[Client, FakeReader]:
        settings = Settings(prometheus_url="http://127.0.0.1:9")  # never contacted: the reader is fake
        options = AlertingSettings(predictor_url=predictor.url, models=MODEL, predictor_retries=0)
        client = Client(settings, options, now=(FIXED_END - pd.Timedelta(hours=1)).timestamp())
        client.passes.reader.close()
        reader = FakeReader(settings, tiny_frame[tiny_frame["signal"].isin([*SIGNALS, "disk_used_pct"])])
        client.passes.reader = reader
        made.append(client)
        return client, reader

    yield make
    for client in made:
        client.close()


def live(scraped: dict, name: str, signal: str) -> float:
    (value,) = series_of(scraped, name, model=MODEL, signal=signal).values()
    return value


@pytest.mark.parametrize("times_backtest", [0.0, 3.0])
def test_live_error_is_what_really_happened(fake_client, times_backtest: float) -> None:
    client, reader = fake_client()
    calls = recorded(client)
    first = client.runner.run_once()
    assert first.health.passes["success"] == 1
    assert not series_of(client.scrape(), "metrics_ai_live_mae")  # nothing has happened yet
    expected = come_true(reader, calls, times_backtest)
    client.now += 16 * 60  # every point of the 15-minute horizon is in the next history
    assert client.runner.run_once().health.passes["success"] == 2
    scraped = client.scrape()
    ratio = load_values(CHART_DIR / "values.yaml")["alerting"]["rules"]["MetricsAILiveErrorHigh"]["ratio"]
    for signal, want in expected.items():
        assert live(scraped, "metrics_ai_live_scored_total", signal) == want["n"]
        assert live(scraped, "metrics_ai_live_mae", signal) == pytest.approx(want["mae"], rel=1e-4, abs=1e-9)
        assert live(scraped, "metrics_ai_live_interval_coverage", signal) == pytest.approx(want["coverage"])
        assert live(scraped, "metrics_ai_backtest_mae", signal) == pytest.approx(want["bt"], rel=1e-6)
        error_ratio = live(scraped, "metrics_ai_live_mae", signal) / live(scraped, "metrics_ai_backtest_mae", signal)
        assert (error_ratio > ratio) == (times_backtest > ratio), (signal, error_ratio)
    if times_backtest == 0:
        assert all(want["coverage"] == 1.0 for want in expected.values())  # spot on: inside every interval


def test_two_passes_against_real_prometheus_score_real_reads(make_client, predictor, prometheus_data) -> None:
    client = make_client(predictor_url=predictor.url, models=MODEL)
    client.now = prometheus_data.end.timestamp() - 1800
    assert client.runner.run_once().health.passes["success"] == 1
    client.now += 1800
    assert client.runner.run_once().health.passes["success"] == 2
    scraped = client.scrape()
    for signal in SIGNALS:
        assert live(scraped, "metrics_ai_live_scored_total", signal) > 0, signal
        mae = live(scraped, "metrics_ai_live_mae", signal)
        assert np.isfinite(mae) and mae >= 0
        assert 0 <= live(scraped, "metrics_ai_live_interval_coverage", signal) <= 1
