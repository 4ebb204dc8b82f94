"""Training data sources; each returns the canonical long frame and where it came from."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metrics_ai.artifacts import DataWindow
from metrics_ai.settings import DataSource, Settings
from training.sources.profiles import get_profile


def window_of(frame: pd.DataFrame, source: str, note: str | None = None) -> DataWindow:
    """Describe a frame for the manifest."""
    entities = frame[["cluster", "node", "mountpoint"]].drop_duplicates()
    return DataWindow(
        source=source,
        start=frame["timestamp"].min() if len(frame) else None,
        end=frame["timestamp"].max() if len(frame) else None,
        rows=int(len(frame)),
        entities=int(len(entities)),
        note=note,
    )


def load_data(
    settings: Settings,
    source: DataSource,
    data_path: Path | None = None,
    profile: str = "demo",
    days: float | None = None,
) -> tuple[pd.DataFrame, DataWindow]:
    """Read training data from the named source.

    ``days`` is the window a Prometheus or hybrid read covers (default: the longest family
    lookback, :func:`training.sources.windows.read_days`); synthetic data and files ignore it.
    """
    if source is DataSource.files:
        from training.sources.files import read_files

        if data_path is None:
            raise ValueError("--source files needs --data PATH (a CSV or Parquet file, or a folder of them)")
        frame = read_files(data_path)
        return frame, window_of(frame, f"files:{data_path}")
    if source is DataSource.synthetic:
        from training.sources.synthetic import generate

        prof = get_profile(profile)
        frame = generate(
            prof, prof.days or settings.training_days, settings.step, settings.anomaly_rate, settings.seed
        )
        return frame, window_of(frame, f"synthetic:{prof.name}")
    if source is DataSource.prometheus:
        from training.sources.prometheus import read_prometheus

        frame = read_prometheus(settings, days=days)
        return frame, window_of(frame, f"prometheus:{settings.prometheus_url}")
    from training.sources.hybrid import read_hybrid

    frame, note = read_hybrid(settings, get_profile(profile), days=days)
    return frame, window_of(frame, note)
