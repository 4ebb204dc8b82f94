"""Each family's training lookback (START_HOURS_AGO or TRAINING_DAYS) and weekly Prophet terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics_ai.crossing import DAY, HOUR
from metrics_ai.families import MODEL_NAMES
from metrics_ai.families.disk_eta import DiskEtaConfig
from metrics_ai.families.io_crisis import IoCrisisConfig
from metrics_ai.settings import DataSource, Settings
from training.families import trainer_class
from training.families.disk_eta import fit_disk_prophet
from training.families.io_crisis import fit_series_prophet
from training.sources.prometheus import window_bounds
from training.sources.windows import family_days, family_frame, read_days

END = pd.Timestamp("2026-10-05", tz="UTC")


def frame_of(days: float, step: int = 3600) -> pd.DataFrame:
    stamps = pd.date_range(end=END, periods=int(days * DAY / step) + 1, freq=f"{step}s")
    return pd.DataFrame({"timestamp": stamps, "value": np.arange(len(stamps), dtype=float)})


def test_forecasting_families_read_start_hours_ago_the_others_training_days() -> None:
    settings = Settings(prometheus_url="http://prometheus:9090", data_source=DataSource.prometheus)
    assert (settings.start_hours_ago, settings.training_days) == (360, 7)
    assert read_days(settings) == 15
    start, end = window_bounds(settings, END)
    assert end - start == 15 * DAY
    start, end = window_bounds(settings, END, days=2)  # an update names its days
    assert end - start == 2 * DAY
    frame = frame_of(20)
    forecasting = {"resource-forecast", "disk-eta", "io-crisis"}
    for model in MODEL_NAMES:
        lookback = trainer_class(model).lookback
        assert (lookback == "start_hours_ago") == (model in forecasting), model
        own = family_frame(frame, settings, lookback)
        span = (own["timestamp"].max() - own["timestamp"].min()).total_seconds()
        expected = 15 if model in forecasting else 7
        assert family_days(settings, lookback) == expected
        assert span == expected * DAY - HOUR, model  # the last `expected` days, newest sample included
        assert own["timestamp"].max() == END


def test_a_longer_training_days_is_read_whole() -> None:
    settings = Settings(prometheus_url="http://p:9090", data_source=DataSource.hybrid, training_days=20)
    assert read_days(settings) == 20
    assert len(family_frame(frame_of(25), settings, "training_days")) == 20 * 24


@pytest.mark.parametrize("source", [DataSource.synthetic, DataSource.files])
def test_synthetic_data_and_files_are_used_whole(source: DataSource) -> None:
    frame = frame_of(20)
    settings = Settings(data_source=source)
    assert all(family_frame(frame, settings, trainer_class(m).lookback) is frame for m in MODEL_NAMES)


def weekly_series(days: float) -> tuple[np.ndarray, np.ndarray]:
    """Hourly io_wait-like ratios with a weekday/weekend cycle."""
    t = END.timestamp() - np.arange(int(days * 24))[::-1] * HOUR
    weekday = (np.floor(t / DAY) + 3) % 7
    rng = np.random.default_rng(0)
    v = 0.05 + 0.04 * (weekday < 5) + 0.01 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 0.002, t.size)
    return t, v


@pytest.mark.parametrize(("days", "weekly"), [(15, True), (13, False)])
def test_io_crisis_and_disk_eta_fit_weekly_terms_from_14_days(days: float, weekly: bool) -> None:
    t, v = weekly_series(days)
    io = fit_series_prophet(t, v, IoCrisisConfig())
    disk = fit_disk_prophet(t, 50 + 100 * v, DiskEtaConfig())
    for state in (io, disk):
        assert ("weekly" in {s.name for s in state.seasonalities}) is weekly
    if weekly:  # the NumPy evaluation carries the weekly term: weekends forecast lower a week on
        ahead = t[-1] + np.arange(1, 7 * 24 + 1) * HOUR
        weekend = ((np.floor(ahead / DAY) + 3) % 7) >= 5
        forecast = io.predict(ahead)
        assert forecast[~weekend].mean() - forecast[weekend].mean() == pytest.approx(0.04, abs=0.01)
