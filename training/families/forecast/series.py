"""The series resource-forecast fits, cut out of the canonical long frame.

cpu and memory: per cluster (mean over its nodes) and per standalone node (cluster
""); io_wait, net_rx, net_tx: per node. Every series is put on a regular grid at its
*native* step (:func:`metrics_ai.resolution.native_step`: the median spacing of its
raw timestamps, snapped to a sane value, never finer than STEP; a cluster series takes
the coarsest of its nodes' steps): interval means, short gaps interpolated, so that
index arithmetic is time arithmetic. 5-minute data stay 5-minute points, never
interpolated to STEP; the step is recorded per series in the fitted state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics_ai.families.forecast.config import CLUSTER_SIGNALS, NODE_SIGNALS
from metrics_ai.resolution import native_step

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


def group_step(group: pd.DataFrame, floor: int, by: str | None = None) -> int:
    """The native step of the rows of one series (the coarsest over ``by``'s groups, e.g. nodes)."""
    parts = [group] if by is None else [g for _, g in group.groupby(by, sort=False, observed=True)]
    return max(native_step(unix_seconds(_utc(p["timestamp"])), floor) for p in parts)


def _utc(stamps: pd.Series) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(stamps)
    return index.tz_convert("UTC") if index.tz else index.tz_localize("UTC")


def forecast_series(frame: pd.DataFrame, step: int, signals: tuple[str, ...] | None = None) -> list[SeriesData]:
    """Every forecast series in ``frame`` at its native step (at least ``step`` s), in a stable order."""
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
                out.append(_make(str(cluster), signal, {"cluster": str(cluster)}, s, group_step(group, step, "node")))
            lone = rows[rows["cluster"] == ""]
            for node, group in lone.groupby("node", sort=True):
                out.append(
                    _make(
                        str(node),
                        signal,
                        {"node": str(node)},
                        group.set_index("timestamp")["value"],
                        group_step(group, step),
                    )
                )
        else:
            for (cluster, node), group in rows.groupby(["cluster", "node"], sort=True):
                labels = {"cluster": str(cluster), "node": str(node)} if cluster else {"node": str(node)}
                values = group.set_index("timestamp")["value"]
                out.append(_make(str(node), signal, labels, values, group_step(group, step)))
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
