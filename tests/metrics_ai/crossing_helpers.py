"""Requests for the crossing predictors' tests (disk-eta, io-crisis): V1 histories and V2 tensors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metrics_ai.crossing import DAY
from metrics_ai.families.crossing import CrossingPredictor
from metrics_ai.prophet_numpy import ProphetState, Seasonality
from metrics_ai.series import History


def trend_state(
    level_at_end: float, rate_per_day: float, end: float, seasonalities: Sequence[Seasonality] = ()
) -> ProphetState:
    """A Prophet state whose curve is ``level_at_end + rate_per_day * days after end`` (plus ``seasonalities``)."""
    return ProphetState(
        growth="linear",
        k=rate_per_day,
        m=level_at_end,
        delta=np.zeros(0),
        changepoints_t=np.zeros(0),
        start=end,
        t_scale=DAY,
        y_scale=1.0,
        seasonalities=list(seasonalities),
    )


def as_json(h: History) -> dict[str, list[float]]:
    """A History as a V1 request's history object."""
    return {"timestamps": h.timestamps.tolist(), "values": h.values.tolist()}


def v2(
    predictor: type[CrossingPredictor] | CrossingPredictor,
    nodes: list[str],
    keys: list[str],
    histories: list[History | None],
    width: int,
) -> dict[str, np.ndarray]:
    """The family's V2 inputs: node and key columns (its names), NaN-padded histories (None: a row of NaN)."""
    ts = np.zeros((len(nodes), width), dtype=np.int64)
    vs = np.full((len(nodes), width), np.nan, dtype=np.float32)
    for i, h in enumerate(histories):
        if h is not None:
            ts[i, : len(h)] = h.timestamps.astype(np.int64)
            vs[i, : len(h)] = h.values
    node_name, key_name = predictor.spec.request.layout.v2_text
    return {
        node_name: np.array([n.encode() for n in nodes], dtype=object),
        key_name: np.array([k.encode() for k in keys], dtype=object),
        "timestamps": ts,
        "values": vs,
    }
