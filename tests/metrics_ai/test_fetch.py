"""PrometheusFetcher: one entity's latest window, cached, time-boxed (504), unreachable (503)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics_ai.errors import UpstreamTimeoutError, UpstreamUnavailableError
from metrics_ai.families.base import HistoryFetcher
from metrics_ai.fetch import PrometheusFetcher, entity_query
from metrics_ai.prometheus import PrometheusClient, canonical_series, load_queries
from metrics_ai.settings import Settings
from tests.fake_prometheus import (
    FakePrometheus,
    closed_port_url,
    grid_answer,
    slow_prometheus,
    token_prometheus,
)
from tests.prometheus_fixture import CLUSTER, DUPLICATE, OPENSHIFT_NODE_NAMES, RESET, STANDALONE, PromData

LABELS = {"cluster": "c1", "instance": "w1:9100"}


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fetcher(url: str, **settings: object) -> PrometheusFetcher:
    return PrometheusFetcher(Settings(prometheus_url=url, **settings))  # type: ignore[arg-type]


def truth_between(data: PromData, signal: str, node: str, start: float, end: float, mountpoint: str = "") -> pd.Series:
    """The generator's values of one series in [start - 5 min, end] (unix s): what rates average."""
    t = data.truth
    stamps = t["timestamp"].astype("int64") / 1e9
    rows = t[(t["signal"] == signal) & (t["node"] == node) & (t["mountpoint"] == mountpoint)
             & (stamps >= start - 300) & (stamps <= end)]
    return rows["value"]


def test_fetcher_satisfies_the_protocol() -> None:
    instance: HistoryFetcher = fetcher("http://127.0.0.1:9")
    assert callable(instance.fetch)


@pytest.mark.parametrize(
    ("signal", "labels", "tolerance"),
    [
        ("cpu", {"cluster": CLUSTER, "node": RESET}, 0.05),  # node from `instance` (node-exporter)
        ("pod_cpu", {"cluster": CLUSTER, "node": DUPLICATE}, 0.05),  # node from `node` (cAdvisor)
        ("memory", {"cluster": CLUSTER, "node": DUPLICATE}, 0.02),  # scraped twice: one series back
        ("net_rx", {"node": STANDALONE}, 0.05),  # no cluster label
        ("disk_used_pct", {"cluster": CLUSTER, "node": DUPLICATE, "mountpoint": "/var/log"}, 0.02),
    ],
)
def test_fetches_one_entity_from_real_prometheus(
    prometheus_data: PromData, signal: str, labels: dict[str, str], tolerance: float
) -> None:
    settings = Settings(prometheus_url=prometheus_data.url)
    query = entity_query(load_queries(settings)[signal], labels, settings.cluster_label)
    assert query is not None
    now = time.time()
    raw = PrometheusClient(settings).query_range(query, now - 600, now, 60)
    entities = {(s.cluster, s.node, s.mountpoint) for s in canonical_series(raw, signal, "cluster")[0]}
    expected = (labels.get("cluster", ""), labels["node"], labels.get("mountpoint", ""))
    assert entities == {expected}, "filtered server-side"
    history = fetcher(prometheus_data.url).fetch(signal, labels, 3600, 60)
    assert history is not None
    # the fixture's data end when the session started; the fetch window ends now
    assert len(history) >= 20 and np.all(np.diff(history.timestamps) == 60)
    assert history.timestamps[-1] >= prometheus_data.end.timestamp()
    start, end = history.timestamps[0], prometheus_data.end.timestamp()
    truth = truth_between(prometheus_data, signal, labels["node"], start, end, labels.get("mountpoint", ""))
    assert history.values.mean() == pytest.approx(truth.mean(), rel=tolerance)


def test_cluster_level_entity_is_the_mean_of_its_nodes(prometheus_data: PromData) -> None:
    nodes = [f"{CLUSTER}-worker-{i}" for i in range(5) if i != 3]  # worker-3 vanished 6 h ago
    got = fetcher(prometheus_data.url).fetch("memory", {"cluster": CLUSTER}, 1800, 60)
    assert got is not None
    start, end = got.timestamps[0], prometheus_data.end.timestamp()
    expected = np.mean([truth_between(prometheus_data, "memory", n, start, end).mean() for n in nodes])
    assert got.values.mean() == pytest.approx(expected, rel=0.02)


def test_unlabelled_prometheus_is_the_cluster_named_by_cluster_name(openshift_prometheus: PromData) -> None:
    """No series has a ``cluster`` label: a request for CLUSTER_NAME finds them, as training named them."""
    live = fetcher(openshift_prometheus.url, cluster_name="ocp-prod")
    whole = live.fetch("memory", {"cluster": "ocp-prod"}, 1800, 60)
    node = live.fetch("io_wait", {"cluster": "ocp-prod", "node": OPENSHIFT_NODE_NAMES[1]}, 1800, 60)
    disk = live.fetch("disk_used_pct", {"cluster": "ocp-prod", "node": OPENSHIFT_NODE_NAMES[0], "mountpoint": "/var"},
                      1800, 60)
    assert whole is not None and node is not None and disk is not None
    assert len(whole) >= 20 and len(node) >= 20 and len(disk) >= 20
    start, end = whole.timestamps[0], openshift_prometheus.end.timestamp()
    expected = np.mean([truth_between(openshift_prometheus, "memory", n, start, end).mean()
                        for n in OPENSHIFT_NODE_NAMES])
    assert whole.values.mean() == pytest.approx(expected, rel=0.02)
    assert live.fetch("memory", {"cluster": "another-cluster"}, 1800, 60) is None
    assert fetcher(openshift_prometheus.url, cluster_name="").fetch("memory", {"cluster": "ocp-prod"}, 1800, 60) is None


def test_unknown_series_and_signal_are_none(prometheus_data: PromData, tmp_path: Path) -> None:
    live = fetcher(prometheus_data.url)
    assert live.fetch("cpu", {"cluster": CLUSTER, "node": "no-such-node"}, 600, 60) is None
    assert live.fetch("cpu", {"cluster": "no-such-cluster", "node": RESET}, 600, 60) is None
    assert live.fetch("disk_used_pct", {"cluster": CLUSTER, "node": DUPLICATE, "mountpoint": "/run"}, 600, 60) is None
    queries = tmp_path / "q.yaml"
    queries.write_text("io_wait: null\n")
    assert fetcher(prometheus_data.url, queries_file=queries).fetch("io_wait", {"node": RESET}, 600, 60) is None


def test_answers_are_cached_per_entity_for_the_configured_time() -> None:
    clock = Clock()
    with FakePrometheus(grid_answer(LABELS)) as fake:
        live = PrometheusFetcher(Settings(prometheus_url=fake.url, prometheus_cache_seconds=30), clock=clock)
        first = live.fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60)
        again = live.fetch("cpu", {"node": "w1", "cluster": "c1"}, 600, 60)
        assert first is again and len(fake.requests) == 1
        live.fetch("memory", {"cluster": "c1", "node": "w1"}, 600, 60)
        assert len(fake.requests) == 2
        clock.now += 31
        assert live.fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60) is not first
        assert len(fake.requests) == 3
        assert live.fetch("cpu", {"cluster": "c1", "node": "w9"}, 600, 60) is None  # unknown: cached too
        assert live.fetch("cpu", {"cluster": "c1", "node": "w9"}, 600, 60) is None
        assert len(fake.requests) == 4
        live.close()


def test_cache_is_a_bounded_lru_per_instance() -> None:
    with FakePrometheus(grid_answer(LABELS)) as fake:
        live = PrometheusFetcher(Settings(prometheus_url=fake.url), max_entries=2)
        other = PrometheusFetcher(Settings(prometheus_url=fake.url))
        for signal in ("cpu", "memory", "cpu", "io_wait", "memory"):
            live.fetch(signal, {"cluster": "c1", "node": "w1"}, 600, 60)
        # cpu, memory (miss, miss), cpu (hit), io_wait evicts memory, memory misses again
        assert len(fake.requests) == 4
        other.fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60)
        assert len(fake.requests) == 5, "no cache shared between instances"


def test_slow_prometheus_is_a_504_within_the_fetch_timeout() -> None:
    with slow_prometheus(10) as fake:
        live = fetcher(fake.url, prometheus_fetch_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(UpstreamTimeoutError) as raised:
            live.fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60)
        assert time.monotonic() - started < 1.5
        assert raised.value.status == 504
        live.close()


def test_unreachable_prometheus_is_a_503() -> None:
    with pytest.raises(UpstreamUnavailableError) as raised:
        fetcher(closed_port_url()).fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60)
    assert raised.value.status == 503
    with FakePrometheus(lambda r, s: (500, {"status": "error"})) as fake:
        with pytest.raises(UpstreamUnavailableError):
            fetcher(fake.url).fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60)
        assert len(fake.requests) == 1, "the predictor does not retry"


def test_token_is_sent(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret")
    with token_prometheus("s3cret", LABELS) as fake:
        got = fetcher(fake.url, prometheus_token_file=token).fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60)
        assert got is not None and len(got) == 11
        with pytest.raises(UpstreamUnavailableError, match="refused") as refused:
            fetcher(fake.url).fetch("cpu", {"cluster": "c1", "node": "w1"}, 600, 60)
        # what the client sees names the signal, never the PromQL, the URL or the upstream's answer
        message = refused.value.message
        assert message.startswith("Prometheus refused the cpu history query") and len(message) < 120
        assert fake.url not in message and "bad token" not in message


def test_entity_query_quotes_label_values() -> None:
    query = entity_query("up", {"cluster": 'a"b', "node": "n$1\\x"}, "ocp_cluster")
    assert query is not None
    assert '"ocp_cluster", "a\\"b"' in query and '"node", "n$$1\\\\x"' in query
    assert entity_query("up", {}, "cluster") is None
