"""One pass against the real Prometheus fixture and a real predictor, scraped over HTTP."""

from __future__ import annotations

import math

import numpy as np

from tests.alerting.conftest import series_of
from tests.prometheus_fixture import CLUSTER, NEW, STALE, STANDALONE, VANISH_HOURS, VANISHED

LIVE = [f"{CLUSTER}-worker-{i}" for i in (0, 1, 2, 4)]
"""Nodes with samples at the data end (worker-3 vanished, worker-5 went stale)."""


def test_one_pass_exposes_every_entity_with_its_labels(make_client, predictor, prometheus_data) -> None:
    client = make_client(predictor_url=predictor.url)
    snapshot = client.runner.run_once()
    scraped = client.scrape()
    assert snapshot.health.passes["success"] == 1, snapshot.health

    # filesystems: exactly the real writable ones of the live nodes (no tmpfs, overlay, read-only)
    days = series_of(scraped, "metrics_ai_disk_days_to_full")
    expected = {
        (c, n, m) for n in [*LIVE, STANDALONE] for c in [CLUSTER if n != STANDALONE else ""] for m in ("/", "/var/log")
    }
    assert {(dict(k)["cluster"], dict(k)["node"], dict(k)["mountpoint"]) for k in days} == expected
    assert any(math.isinf(v) for v in days.values()), "some disk of the fixture never fills: +Inf"
    for key, value in days.items():
        severity = scraped[("metrics_ai_disk_fill_severity", key)]
        assert severity == 0 if math.isinf(value) else severity == _grade(value), (key, value, severity)
    truth = prometheus_data.truth
    for key, used in series_of(scraped, "metrics_ai_disk_used_percent").items():
        labels = dict(key)
        disk = truth[
            (truth["signal"] == "disk_used_pct")
            & (truth["node"] == labels["node"])
            & (truth["mountpoint"] == labels["mountpoint"])
        ]
        assert abs(used - float(disk["value"].iloc[-1])) < 0.5, labels

    # node signals: days to crisis per node and signal, the io_wait threshold from the model
    crisis = series_of(scraped, "metrics_ai_crisis_days")
    assert {(dict(k)["node"], dict(k)["signal"]) for k in crisis} == {
        (n, s) for n in [*LIVE, STANDALONE] for s in ("io_wait", "net_rx", "net_tx")
    }
    assert all(v >= 0 for v in crisis.values())
    threshold = series_of(scraped, "metrics_ai_crisis_threshold", node=LIVE[0], signal="io_wait")
    assert list(threshold.values()) == [0.3]

    # forecasts: the cluster's cpu (entity = cluster, no node), a node's io_wait (entity = node)
    cluster_cpu = series_of(scraped, "metrics_ai_forecast", cluster=CLUSTER, node="", entity=CLUSTER, signal="cpu")
    bands = {dict(k)["value_type"]: v for k, v in cluster_cpu.items()}
    assert set(bands) == {"yhat", "yhat_lower", "yhat_upper"}
    assert bands["yhat_lower"] <= bands["yhat"] <= bands["yhat_upper"]
    actual = series_of(scraped, "metrics_ai_forecast_actual", entity=CLUSTER, signal="cpu")
    assert len(actual) == 1 and 0 < next(iter(actual.values())) < 1
    for name in (
        "metrics_ai_forecast_deviation_score",
        "metrics_ai_forecast_anomaly_likelihood",
        "metrics_ai_forecast_deviation_alarm",
    ):
        node_io = series_of(scraped, name, cluster=CLUSTER, node=LIVE[0], entity=LIVE[0], signal="io_wait")
        assert len(node_io) == 1 and 0 <= next(iter(node_io.values())) <= 1, name
    standalone = series_of(
        scraped,
        "metrics_ai_forecast",
        cluster="",
        node=STANDALONE,
        entity=STANDALONE,
        signal="memory",
        value_type="yhat",
    )
    assert len(standalone) == 1

    # node-outliers: the cluster's live nodes (the standalone node has no peers); anomaly: the cluster
    outliers = series_of(scraped, "metrics_ai_node_outlier_score")
    assert {dict(k)["node"] for k in outliers} == set(LIVE)
    assert set(series_of(scraped, "metrics_ai_node_outlier").values()) <= {0.0, 1.0}
    anomaly = series_of(scraped, "metrics_ai_cluster_anomaly_score")
    assert [dict(k) for k in anomaly] == [{"cluster": CLUSTER}]

    # own health
    assert scraped[("metrics_ai_alerting_passes_total", (("outcome", "success"),))] == 1
    assert scraped[("metrics_ai_alerting_passes_total", (("outcome", "failed"),))] == 0
    assert all(v == 0 for v in series_of(scraped, "metrics_ai_alerting_errors_total").values())
    entities = {dict(k)["model"]: v for k, v in series_of(scraped, "metrics_ai_alerting_entities").items()}
    assert entities == {
        "disk-eta": 10,
        "io-crisis": 15,
        "resource-forecast": 19,
        "node-outliers": 4,
        "anomaly-detector": 1,
    }
    assert ("metrics_ai_alerting_last_success_timestamp_seconds", ()) in scraped
    assert scraped[("metrics_ai_alerting_pass_duration_seconds", ())] > 0


def _grade(days: float) -> float:
    return 3.0 if days < 3 else 2.0 if days < 7 else 1.0 if days < 30 else 0.0


def test_vanished_entities_are_removed_and_new_ones_picked_up(make_client, predictor, prometheus_data) -> None:
    end = prometheus_data.end.timestamp()
    client = make_client(
        predictor_url=predictor.url, now=end - (VANISH_HOURS + 1) * 3600, models=("disk-eta", "node-outliers")
    )
    client.runner.run_once()
    before = client.scrape()
    assert series_of(before, "metrics_ai_disk_days_to_full", node=VANISHED)
    assert series_of(before, "metrics_ai_node_outlier", node=VANISHED)
    client.now = end
    client.runner.run_once()
    after = client.scrape()
    assert not [k for k in after if dict(k[1]).get("node") == VANISHED], "the vanished node's series remain"
    assert not [k for k in after if dict(k[1]).get("node") == STALE]
    assert series_of(after, "metrics_ai_disk_days_to_full", node=NEW), "the new node is picked up"
    assert after[("metrics_ai_alerting_passes_total", (("outcome", "success"),))] == 2


def test_every_forecast_series_has_an_alarm_that_follows_the_history(make_client, predictor) -> None:
    client = make_client(predictor_url=predictor.url, models=("resource-forecast",))
    client.runner.run_once()
    first = series_of(client.scrape(), "metrics_ai_forecast_anomaly_likelihood")
    client.now += 120  # the histories' latest timestamp advances: every alarm takes one more point
    client.runner.run_once()
    likelihood = series_of(client.scrape(), "metrics_ai_forecast_anomaly_likelihood")
    assert set(likelihood) == set(first) and len(client.passes.alarms) == len(first) > 0
    assert np.isfinite(list(likelihood.values())).all()
