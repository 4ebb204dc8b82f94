"""How far back each family's training data reaches (as in the original system).

Each Trainer declares its :data:`Lookback`. The forecasting families (resource-forecast,
disk-eta, io-crisis) learn from the last
START_HOURS_AGO (360 h: 15 days, so a weekly cycle is seen twice and can be fitted);
the anomaly-detector and node-outliers from the last TRAINING_DAYS (the decision
record's 7). A Prometheus or hybrid read covers the longer of the two once, and the
pipeline hands each family its own window of it (:func:`family_frame`). Synthetic
data and files are one fixed window, used whole by every family.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from metrics_ai.settings import DataSource, Settings

#: the setting a family's training window comes from (a Trainer's ``lookback``)
Lookback = Literal["training_days", "start_hours_ago"]

#: sources that read a time window ending now (the others are used whole)
WINDOWED_SOURCES: frozenset[DataSource] = frozenset({DataSource.prometheus, DataSource.hybrid})


def family_days(settings: Settings, lookback: Lookback) -> float:
    """Days of data a family with ``lookback`` trains on: START_HOURS_AGO / 24 or TRAINING_DAYS."""
    return settings.start_hours_ago / 24 if lookback == "start_hours_ago" else settings.training_days


def read_days(settings: Settings) -> float:
    """Days a full run reads from Prometheus: the longest family window."""
    return max(settings.training_days, settings.start_hours_ago / 24)


def family_frame(frame: pd.DataFrame, settings: Settings, lookback: Lookback) -> pd.DataFrame:
    """The rows of a family's window (the last :func:`family_days` before the newest sample).

    Only for windowed sources (Prometheus, hybrid); other frames come back unchanged.
    """
    if settings.data_source not in WINDOWED_SOURCES or frame.empty:
        return frame
    start = frame["timestamp"].max() - pd.Timedelta(days=family_days(settings, lookback))
    keep = frame["timestamp"] > start
    return frame if bool(keep.all()) else frame[keep].reset_index(drop=True)
