"""Shaping the canonical long frame into what trainers fit on."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def entity_key(*labels: str) -> str:
    """A readable id for an entity: non-empty labels joined with '/'."""
    return "/".join(str(label) for label in labels if str(label))


def wide_by_entity(
    frame: pd.DataFrame,
    signals: Sequence[str],
    interval: int,
    labels: Sequence[str] = ("cluster", "node"),
) -> dict[tuple[str, ...], pd.DataFrame]:
    """Per entity: a time-indexed wide frame of ``signals`` resampled to ``interval`` s.

    Values are interval means, ``anomaly`` is True when any sample in the interval was
    labelled; entities missing any signal are left out; gaps are forward-filled once
    and remaining incomplete rows dropped.
    """
    sub = frame[frame["signal"].isin(signals)]
    out: dict[tuple[str, ...], pd.DataFrame] = {}
    for key, group in sub.groupby(list(labels), observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        present = set(group["signal"].astype(str).unique())
        if not set(signals) <= present:
            continue
        rule = f"{interval}s"
        values = (
            group.pivot_table(index="timestamp", columns="signal", values="value", aggfunc="mean", observed=True)
            .resample(rule)
            .mean()
        )
        flags = group.groupby("timestamp")["anomaly"].any().resample(rule).max().fillna(False)
        wide = values[list(signals)].ffill(limit=1).dropna()
        wide["anomaly"] = flags.reindex(wide.index).fillna(False).astype(bool)
        if len(wide):
            out[tuple(str(k) for k in key)] = wide
    return out
