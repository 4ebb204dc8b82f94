"""How resource-forecast's series are grouped by step: LSTM networks, fallback pools, the record.

Each series is fitted at its native step (:mod:`training.families.forecast.series`); a network's
Dense layer and a pool's weights are per horizon point, so both serve one step.
"""

from __future__ import annotations

from metrics_ai.families.forecast.config import ForecastConfig
from training.families.forecast.backtest import Fitted
from training.families.forecast.series import SeriesData


def pool_members(fits: list[Fitted]) -> list[Fitted]:
    """A signal's series at its most common step (ties: the finest): a pool serves one step."""
    counts: dict[float, int] = {}
    for f in fits:
        counts[f.data.step] = counts.get(f.data.step, 0) + 1
    step = min(counts, key=lambda s: (-counts[s], s))
    return [f for f in fits if f.data.step == step]


def lstm_key(data: SeriesData, cfg: ForecastConfig) -> str:
    """The network a series trains: pooled per node signal and step, else its own.

    A pooled network serves one step (its Dense layer is the horizon at that step); at
    STEP the key stays ``pooled/<signal>``, at another native step ``pooled/<signal>@<step>s``.
    """
    if data.signal not in cfg.pooled_signals:
        return f"series/{data.key}"
    at = "" if int(data.step) == cfg.step else f"@{int(data.step)}s"
    return f"pooled/{data.signal}{at}"


def fitted_steps(fits: list[Fitted]) -> dict[str, list[int]]:
    """signal -> the native steps (s) its series were fitted at (the manifest's record)."""
    out: dict[str, set[int]] = {}
    for f in fits:
        out.setdefault(f.data.signal, set()).add(int(f.data.step))
    return {k: sorted(v) for k, v in out.items()}
