"""The series resource-forecast fits, cut out of the canonical long frame.

cpu and memory: per cluster (mean over its nodes) and per standalone node (cluster
""); io_wait, net_rx, net_tx: per node. Every series is resampled to a regular step
(interval means; short gaps interpolated) so that index arithmetic is time arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics_ai.forecast_state import CLUSTER_SIGNALS, NODE_SIGNALS

_MAX_GAP = 10  # gaps up to this many points are interpolated; longer ones are held flat


@dataclass
class SeriesData:
    """One regular series: unix seconds ``t`` and values ``y`` at ``step`` seconds."""

    entity: str
    signal: str
    labels: dict[str, str]
    t: np.ndarray
    y: np.ndarray
    step: int

    @property
    def key(self) -> str:
        """``signal/entity``."""
        return f"{self.signal}/{self.entity}"


def unix_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """UTC DatetimeIndex -> float64 unix seconds."""
    return np.asarray((index - pd.Timestamp(0, tz="UTC")).total_seconds(), dtype=np.float64)


def regular(values: pd.Series, step: int) -> pd.Series:
    """Interval means at ``step`` seconds, gaps interpolated (long ones held flat)."""
    out = values.resample(f"{step}s").mean()
    out = out.interpolate(limit=_MAX_GAP, limit_area="inside").ffill().dropna()
    return out


def forecast_series(frame: pd.DataFrame, step: int, signals: tuple[str, ...] | None = None) -> list[SeriesData]:
    """Every forecast series in ``frame`` at ``step`` seconds, in a stable order."""
    wanted = set(signals or (*CLUSTER_SIGNALS, *NODE_SIGNALS))
    out: list[SeriesData] = []
    sub = frame[frame["signal"].isin(list(wanted))][["timestamp", "signal", "value", "cluster", "node"]]
    if sub.empty:
        return out
    sub = sub.assign(
        signal=sub["signal"].astype(str),
        cluster=sub["cluster"].astype(str),
        node=sub["node"].astype(str),
    )
    for signal in [s for s in (*CLUSTER_SIGNALS, *NODE_SIGNALS) if s in wanted]:
        rows = sub[sub["signal"] == signal]
        if signal in CLUSTER_SIGNALS:
            clustered = rows[rows["cluster"] != ""]
            for cluster, group in clustered.groupby("cluster", sort=True):
                # mean over nodes at each timestamp, then onto the regular grid
                s = group.groupby("timestamp")["value"].mean()
                out.append(_make(str(cluster), signal, {"cluster": str(cluster)}, s, step))
            lone = rows[rows["cluster"] == ""]
            for node, group in lone.groupby("node", sort=True):
                out.append(
                    _make(
                        str(node),
                        signal,
                        {"node": str(node)},
                        group.set_index("timestamp")["value"],
                        step,
                    )
                )
        else:
            for (cluster, node), group in rows.groupby(["cluster", "node"], sort=True):
                labels = {"cluster": str(cluster), "node": str(node)} if cluster else {"node": str(node)}
                out.append(_make(str(node), signal, labels, group.set_index("timestamp")["value"], step))
    return [s for s in out if s.y.size]


def _make(entity: str, signal: str, labels: dict[str, str], values: pd.Series, step: int) -> SeriesData:
    values = values.sort_index()
    values.index = (
        pd.DatetimeIndex(values.index).tz_convert("UTC")
        if values.index.tz
        else pd.DatetimeIndex(values.index).tz_localize("UTC")
    )
    reg = regular(values, step)
    return SeriesData(
        entity,
        signal,
        labels,
        unix_seconds(pd.DatetimeIndex(reg.index)),
        reg.to_numpy(np.float64),
        step,
    )
