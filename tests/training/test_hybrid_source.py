"""--source hybrid: real/synthetic mix, injected anomalies, fallback when Prometheus is away."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics_ai.errors import UpstreamUnavailableError
from metrics_ai.prometheus import PrometheusClient, PrometheusQueryError
from metrics_ai.settings import DataSource, Settings
from tests.fake_prometheus import closed_port_url, slow_prometheus, token_prometheus
from tests.prometheus_fixture import PromData
from training.sources import load_data
from training.sources.hybrid import SYNTHETIC_PREFIX, read_hybrid
from training.sources.profiles import get_profile
from training.sources.prometheus import read_prometheus
from training.sources.synthetic import ANOMALY_SIGNALS

TINY = get_profile("tiny")


def quick(settings: Settings) -> PrometheusClient:
    """A client that gives up fast (the defaults back off for seconds)."""
    return PrometheusClient(settings, retries=1, backoff=0.01)


def real_share(frame: pd.DataFrame) -> float:
    return float((~frame["node"].astype(str).str.startswith(SYNTHETIC_PREFIX)).mean())


@pytest.mark.parametrize("ratio", [0.5, 0.8])
def test_mix_follows_the_real_ratio_and_labels_injected_anomalies(prometheus_data: PromData, ratio: float) -> None:
    settings = Settings(prometheus_url=prometheus_data.url, training_days=1, start_hours_ago=24,
                        hybrid_real_ratio=ratio,
                        anomaly_rate=0.05, data_source=DataSource.hybrid)
    frame, note = read_hybrid(settings, get_profile("demo"))
    assert note.startswith("hybrid:real=") and f"(requested {ratio:.2f})" in note
    assert real_share(frame) == pytest.approx(ratio, abs=0.1)
    assert f"real={real_share(frame):.2f}" in note
    real = frame[~frame["node"].astype(str).str.startswith(SYNTHETIC_PREFIX)]
    synthetic = frame[frame["node"].astype(str).str.startswith(SYNTHETIC_PREFIX)]
    assert all(c == "" or c.startswith(SYNTHETIC_PREFIX) for c in synthetic["cluster"].astype(str).unique())
    assert real["timestamp"].max() - synthetic["timestamp"].max() <= pd.Timedelta(minutes=1)
    flagged = real[real["anomaly"]]
    assert set(flagged["signal"].astype(str)) <= set(ANOMALY_SIGNALS) and len(flagged)
    cpu = real[(real["signal"] == "cpu") & (real["cluster"] != "")]  # standalone: no pod_restarts
    assert cpu["anomaly"].mean() == pytest.approx(0.06, abs=0.015)


def test_injected_anomalies_change_the_real_values(prometheus_data: PromData) -> None:
    settings = Settings(prometheus_url=prometheus_data.url, training_days=1, start_hours_ago=24,
                        hybrid_real_ratio=1.0,
                        anomaly_rate=0.05)
    plain = read_prometheus(settings)
    mixed, _ = read_hybrid(settings, TINY)
    assert real_share(mixed) == 1.0
    key = ["signal", "cluster", "node", "mountpoint", "timestamp"]
    both = plain.merge(mixed, on=key, suffixes=("_plain", "_mixed"))
    changed = both["value_plain"].to_numpy() != both["value_mixed"].to_numpy()
    assert changed.any()
    assert both.loc[changed, "anomaly_mixed"].all(), "only labelled rows are altered"
    assert not both.loc[~both["signal"].isin(ANOMALY_SIGNALS), "anomaly_mixed"].any()


def test_ratio_zero_is_synthetic_only_and_never_asks_prometheus() -> None:
    settings = Settings(prometheus_url=closed_port_url(), hybrid_real_ratio=0.0, strict_source=True)
    frame, note = read_hybrid(settings, TINY)
    assert note == "hybrid:real=0.00 synthetic:tiny" and len(frame)
    assert set(frame["node"].astype(str)) == {"prod-east-worker-0", "prod-east-worker-1", "prod-east-worker-2",
                                               "standalone-0"}
    assert frame["anomaly"].any()


def test_unreachable_prometheus_falls_back_to_synthetic(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(prometheus_url=closed_port_url(), hybrid_real_ratio=0.5)
    with caplog.at_level(logging.WARNING, logger="training.sources.hybrid"):
        frame, note = read_hybrid(settings, TINY, client=quick(settings))
    assert note.startswith("hybrid:fallback-synthetic (prometheus unreachable: ") and "cannot connect" in note
    assert any("falling back to synthetic" in r.getMessage() for r in caplog.records)
    assert len(frame) and frame["anomaly"].any()


def test_fallback_note_becomes_the_manifest_source(monkeypatch: pytest.MonkeyPatch) -> None:
    url = closed_port_url()
    settings = Settings(prometheus_url=url, hybrid_real_ratio=0.5)
    monkeypatch.setattr("training.sources.prometheus.PrometheusClient", quick)
    _, window = load_data(settings, DataSource.hybrid, None, "tiny")
    assert window.source.startswith("hybrid:fallback-synthetic (prometheus unreachable:")


def test_strict_source_raises_instead_of_falling_back() -> None:
    settings = Settings(prometheus_url=closed_port_url(), hybrid_real_ratio=0.5, strict_source=True)
    with pytest.raises(UpstreamUnavailableError, match="STRICT_SOURCE"):
        read_hybrid(settings, TINY, client=quick(settings))


def test_slow_prometheus_times_out_and_falls_back() -> None:
    with slow_prometheus(10) as fake:
        settings = Settings(prometheus_url=fake.url, prometheus_timeout=0.3, hybrid_real_ratio=0.5)
        frame, note = read_hybrid(settings, TINY, client=quick(settings))
    assert note.startswith("hybrid:fallback-synthetic (prometheus unreachable: ") and "within 0.3 s" in note
    assert len(frame)


def test_token_file_is_sent_and_a_refused_token_is_not_hidden(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret")
    labels = {"cluster": "c1", "instance": "w1:9100"}
    with token_prometheus("s3cret", labels) as fake:
        settings = Settings(prometheus_url=fake.url, prometheus_token_file=token, training_days=0.1,
                            start_hours_ago=2)
        frame = read_prometheus(settings, client=quick(settings))
        assert set(frame["node"].astype(str)) == {"w1"}
        assert {r.headers.get("Authorization") for r in fake.requests} == {"Bearer s3cret"}
        token.write_text("wrong")
        with pytest.raises(PrometheusQueryError, match="401"):
            read_hybrid(settings.model_copy(update={"hybrid_real_ratio": 0.5}), TINY, client=quick(settings))
    assert np.isfinite(frame["value"]).all()
