"""metrics_ai.prometheus: queries file, chunk plan, cleaning, client errors (fake servers)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metrics_ai.errors import UpstreamTimeoutError, UpstreamUnavailableError
from metrics_ai.prometheus import (
    MAX_POINTS,
    PrometheusClient,
    PrometheusQueryError,
    RawSeries,
    canonical_series,
    counter_rate,
    fill_short_gaps,
    load_queries,
    name_unlabelled,
    node_of,
    plan_chunks,
)
from metrics_ai.series import SIGNALS
from metrics_ai.settings import Settings
from tests.fake_prometheus import (
    FakePrometheus,
    Request,
    closed_port_url,
    grid_answer,
    slow_prometheus,
    token_prometheus,
)

NODE = {"cluster": "c1", "instance": "w1:9100", "job": "node-exporter"}


def test_default_queries_cover_every_signal_with_the_cluster_label() -> None:
    queries = load_queries(Settings(cluster_label="ocp_cluster"))
    assert set(queries) == set(SIGNALS)
    assert "$cluster_label" not in " ".join(queries.values())
    assert 'rate(node_cpu_seconds_total{mode="user"}[5m])' in queries["cpu"]
    assert "by (ocp_cluster, instance)" in queries["cpu"]
    assert 'node_filesystem_readonly == 0' in queries["disk_used_pct"]


def test_queries_file_overrides_disables_and_rejects_typos(tmp_path: Path) -> None:
    override = tmp_path / "q.yaml"
    override.write_text("cpu: my_cpu{cluster=~\".+\"}\npod_restarts: null\n")
    queries = load_queries(Settings(queries_file=override))
    assert queries["cpu"] == 'my_cpu{cluster=~".+"}'
    assert "pod_restarts" not in queries and "memory" in queries
    override.write_text("cpuu: x\n")
    with pytest.raises(ValueError, match="unknown signal.*cpuu"):
        load_queries(Settings(queries_file=override))
    with pytest.raises(ValueError, match="QUERIES_FILE"):
        load_queries(Settings(queries_file=tmp_path / "missing.yaml"))


@pytest.mark.parametrize("days", [0.5, 7.6, 15, 30])
def test_chunks_cover_the_grid_without_overlap_or_oversize(days: float) -> None:
    start, step = 1_700_000_000, 60
    end = start + int(days * 86400)
    chunks = plan_chunks(start, end, step)
    points = np.concatenate([np.arange(a, b + 1, step) for a, b in chunks])
    assert np.array_equal(points, np.arange(start, end + 1, step))
    assert all((b - a) // step + 1 <= MAX_POINTS for a, b in chunks)


def test_counter_rate_handles_resets() -> None:
    ts = np.arange(6) * 60.0
    counter = np.array([100.0, 160.0, 220.0, 30.0, 90.0, 150.0])  # reset before the 4th sample
    stamps, rate = counter_rate(ts, counter)
    assert np.allclose(rate, [1.0, 1.0, 0.5, 1.0, 1.0]) and np.array_equal(stamps, ts[1:])


def test_canonical_series_maps_labels_dedupes_and_cleans() -> None:
    ts = np.arange(5) * 60.0
    raw = [
        RawSeries({**NODE}, ts, np.array([0.1, np.nan, 0.3, np.inf, 0.5])),
        RawSeries({**NODE, "job": "second-scraper"}, ts[:3], np.full(3, 0.9)),
        RawSeries({"node": "w2", "instance": "10.0.0.2:10250"}, ts, np.full(5, 0.2)),
        RawSeries({"__name__": "bytes_total", "instance": "w3:9100"}, ts, np.array([0, 60, 120, 10, 70.0])),
    ]
    series, cleaning = canonical_series(raw, "cpu", "cluster")
    by_node = {s.node: s for s in series}
    assert set(by_node) == {"w1", "w2", "w3"}
    assert by_node["w1"].cluster == "c1" and by_node["w2"].cluster == ""
    assert np.allclose(by_node["w1"].values, [0.1, 0.3, 0.5]), "NaN/inf dropped, the longer duplicate kept"
    assert cleaning.non_finite == 2
    assert [labels["job"] for _, labels in cleaning.duplicates] == ["second-scraper"]
    assert np.allclose(by_node["w3"].values, [1.0, 1.0, 10 / 60, 1.0]) and cleaning.counters == ["bytes_total"]


def test_node_and_mountpoint_labels() -> None:
    assert node_of({"instance": "10.1.2.3:9100"}) == "10.1.2.3"
    assert node_of({"instance": "[fd00::1]:9100"}) == "fd00::1"
    assert node_of({"node": "w1", "instance": "10.1.2.3:10250"}) == "w1"
    raw = [RawSeries({"instance": "w:9100", "mountpoint": "/var"}, np.array([0.0]), np.array([50.0]))]
    assert canonical_series(raw, "disk_used_pct", "cluster")[0][0].mountpoint == "/var"
    assert canonical_series(raw, "cpu", "cluster")[0][0].mountpoint == ""


def test_fill_short_gaps_only() -> None:
    ts = np.array([0, 60, 120, 360, 420, 4000, 4060.0])  # a 3-step hole, then a long one
    vs = np.arange(7.0)
    filled_ts, filled_vs = fill_short_gaps(ts, vs, 60, 5)
    assert np.array_equal(filled_ts, [0, 60, 120, 180, 240, 300, 360, 420, 4000, 4060])
    assert np.array_equal(filled_vs, [0, 1, 2, 2, 2, 2, 3, 4, 5, 6])


# --- the client against fake servers --------------------------------------------------------


def client(url: str, **kwargs: Any) -> PrometheusClient:
    settings = Settings(prometheus_url=url, **kwargs.pop("settings", {}))
    return PrometheusClient(settings, retries=kwargs.pop("retries", 2), backoff=0.01, **kwargs)


def test_chunked_requests_are_merged_into_one_series() -> None:
    with FakePrometheus(grid_answer(NODE)) as fake:
        series = client(fake.url, max_points=100).query_range("up", 0, 60 * 249, 60)
    assert len(fake.requests) == 3
    assert all(int(r.params["end"]) - int(r.params["start"]) <= 99 * 60 for r in fake.requests)
    assert len(series) == 1 and np.array_equal(series[0].timestamps, np.arange(250) * 60.0)


def test_retries_5xx_with_backoff_then_succeeds() -> None:
    answers = iter([(503, {"status": "error"}), (500, {"status": "error"})])
    ok = grid_answer(NODE)

    def respond(request: Request, stopping: threading.Event) -> tuple[int, dict[str, Any]]:
        return next(answers, None) or ok(request, stopping)

    with FakePrometheus(respond) as fake:
        series = client(fake.url).query_range("up", 0, 600, 60)
    assert len(fake.requests) == 3 and len(series) == 1


def test_persistent_5xx_is_unavailable_and_4xx_is_not_retried() -> None:
    with FakePrometheus(lambda r, s: (502, {"status": "error"})) as fake, pytest.raises(
        UpstreamUnavailableError, match="502"
    ):
        client(fake.url).query_range("up", 0, 600, 60)
    assert len(fake.requests) == 3
    with FakePrometheus(lambda r, s: (400, {"status": "error", "error": "parse error"})) as fake, pytest.raises(
        PrometheusQueryError, match="parse error"
    ):
        client(fake.url).query_range("up{", 0, 600, 60)
    assert len(fake.requests) == 1


def test_unreachable_is_unavailable() -> None:
    with pytest.raises(UpstreamUnavailableError, match="cannot connect"):
        client(closed_port_url()).query_range("up", 0, 600, 60)


def test_slow_server_times_out() -> None:
    with slow_prometheus(10) as fake:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeoutError, match="within 0.3 s"):
            client(fake.url, settings={"prometheus_timeout": 0.3}, retries=1).query_range("up", 0, 600, 60)
        assert time.monotonic() - started < 3
    assert len(fake.requests) == 2


def test_bearer_token_from_file_is_sent_and_reread(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    with token_prometheus("s3cret", NODE) as fake:
        api = client(fake.url, settings={"prometheus_token_file": token})
        assert len(api.query_range("up", 0, 600, 60)) == 1
        assert fake.requests[-1].headers["Authorization"] == "Bearer s3cret"
        token.write_text("rotated")  # service-account tokens rotate: read per request
        with pytest.raises(PrometheusQueryError, match="401"):
            api.query_range("up", 0, 600, 60)
        assert fake.requests[-1].headers["Authorization"] == "Bearer rotated"
        with pytest.raises(PrometheusQueryError, match="401"):
            client(fake.url).query_range("up", 0, 600, 60)
        assert "Authorization" not in fake.requests[-1].headers


def test_ca_file_is_the_tls_verify_bundle(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    api = client("https://prometheus.example:9091", settings={"prometheus_ca_file": ca})
    assert api._api._session.verify == str(ca)


def test_non_prometheus_answer_is_unavailable() -> None:
    with FakePrometheus(lambda r, s: (200, {"html": "login page"})) as fake, pytest.raises(
        UpstreamUnavailableError, match="not a Prometheus API response"
    ):
        client(fake.url, retries=0).query_range("up", 0, 600, 60)


def test_unlabelled_series_are_one_named_cluster_only_when_no_series_has_the_label() -> None:
    def raw(node: str, cluster: str | None) -> RawSeries:
        labels = {"instance": f"{node}:9100"} | ({"cluster": cluster} if cluster else {})
        return RawSeries(labels, np.arange(3.0), np.ones(3))

    none, _ = canonical_series([raw("a", None), raw("b", None)], "cpu", "cluster")
    assert {s.cluster for s in name_unlabelled(none, "ocp-prod")} == {"ocp-prod"}
    assert {s.cluster for s in name_unlabelled(none, "")} == {""}, "empty CLUSTER_NAME: standalone nodes"
    mixed, _ = canonical_series([raw("a", "east"), raw("b", None)], "cpu", "cluster")
    named = {s.node: s.cluster for s in name_unlabelled(mixed, "ocp-prod")}
    assert named == {"a": "east", "b": ""}, "some series labelled: the unlabelled one is standalone"
