"""Settings: env names (prefixed and original), validation, typo detection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from metrics_ai.settings import DataSource, load_settings, parse_duration_seconds


def test_defaults_match_the_design() -> None:
    s = load_settings()
    assert (s.horizon_min, s.lookback_hours, s.contamination, s.step) == (15, 24, 0.12, 60)
    assert (s.start_hours_ago, s.lstm_seq_len, s.lstm_epochs, s.train_fraction) == (360, 60, 10, 0.8)
    assert (s.data_source, s.training_days, s.anomaly_rate, s.sample_interval) == (DataSource.synthetic, 7, 0.03, 300)
    assert s.horizon_points == 15


def test_original_and_prefixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEP", "5m")
    monkeypatch.setenv("METRICS_AI_HORIZON_MIN", "30")
    monkeypatch.setenv("TRAINING_DAYS", "3")
    s = load_settings()
    assert (s.step, s.horizon_min, s.training_days, s.horizon_points) == (300, 30, 3, 6)


def test_typo_in_prefixed_name_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_AI_HORIZN_MIN", "30")
    with pytest.raises(ValueError, match="METRICS_AI_HORIZN_MIN"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [("TRAIN_FRACTION", "1.5"), ("STEP", "soon"), ("DATA_SOURCE", "kafka"), ("FORECAST_COMPONENTS", "prophet,gru")],
)
def test_invalid_values_fail_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        load_settings()


def test_prometheus_source_needs_url() -> None:
    with pytest.raises(ValidationError, match="PROMETHEUS_URL"):
        load_settings(data_source="prometheus")


def test_durations() -> None:
    assert [parse_duration_seconds(v) for v in (60, "60", "60s", "5m", "1h")] == [60, 60, 60, 300, 3600]
    with pytest.raises(ValueError):
        parse_duration_seconds("0s")
