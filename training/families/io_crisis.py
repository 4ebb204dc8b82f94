"""Train io-crisis: one Prophet fit per node and signal, a crisis replay on the held-out tail.

The flow is the crossing family's (:mod:`training.families.crossing`); this module is what
is io-crisis' own: the crisis Prophet, the tail forecast, names, metrics and figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from metrics_ai.crossing import HOUR, level_offset
from metrics_ai.entities import Key, entity_name
from metrics_ai.families.io_crisis import FAMILY, SIGNALS, IoCrisisConfig, IoCrisisPredictor
from metrics_ai.prophet_numpy import ProphetState
from training.crossing_backtest import DetectionCounts, errors
from training.families.crossing import CrossingBacktest, CrossingFit, CrossingTrainer, tail_figure
from training.prophet_export import PointFitter, fit_coarse, weekly_fits


def fit_series_prophet(
    t: np.ndarray, v: np.ndarray, cfg: IoCrisisConfig, fitter: PointFitter | None = None
) -> ProphetState:
    """The original system's crisis Prophet: n_changepoints 10, daily seasonality automatic
    (from two days), weekly whenever 14 days or more are present (:func:`weekly_fits`;
    START_HOURS_AGO, 15 days, gives them).

    ``fitter`` replaces the cold fit (the update's warm refit, :mod:`training.updates.prophet`).
    """
    return fit_coarse(
        t,
        v,
        fitter=fitter,
        n_changepoints=cfg.n_changepoints,
        daily_seasonality="auto",
        weekly_seasonality=weekly_fits(t),
    )


def crisis_forecasts(
    head_t: np.ndarray, head_v: np.ndarray, tail_t: np.ndarray, state: ProphetState, cfg: IoCrisisConfig
) -> dict[str, np.ndarray]:
    """The level-corrected Prophet curve over the tail."""
    offset = level_offset(head_t, head_v, state.predict, cfg.level_hours * HOUR)
    return {"prophet": state.predict(tail_t) + offset}


def series_name(key: tuple[str, ...]) -> str:
    """A series' entity name: ``cluster/node/signal`` (``node/signal`` when standalone)."""
    cluster, node, signal = key
    return f"{entity_name(cluster, node)}/{signal}"


def node_entities(keys: Iterable[Key]) -> list[str]:
    """A version's entities: the nodes of its series."""
    return sorted({entity_name(cluster, node) for cluster, node, _ in keys})


def crisis_metrics(backtests: dict[str, CrossingBacktest]) -> dict[str, Any]:
    """Detection counts (total and per signal), forecast MAE/RMSE per signal, gate."""
    if not backtests:
        return {"series": 0, "note": "no series is long enough for a backtest"}
    total = DetectionCounts()
    by_signal: dict[str, DetectionCounts] = {sig: DetectionCounts() for sig in SIGNALS}
    mae: dict[str, list[float]] = {sig: [] for sig in SIGNALS}
    rmse: dict[str, list[float]] = {sig: [] for sig in SIGNALS}
    rel: list[float] = []
    for name, b in backtests.items():
        signal = name.rsplit("/", 1)[1]
        total += b.detection
        by_signal[signal] += b.detection
        e = errors(b.actual, b.forecasts["prophet"])
        mae[signal].append(e[0])
        rmse[signal].append(e[1])
        rel.append(e[0] / b.threshold)
    return {
        "series": len(backtests),
        "detection": total.as_dict(),
        "detection_by_signal": {sig: c.as_dict() for sig, c in by_signal.items() if c.cases},
        "mae": {sig: float(np.mean(x)) for sig, x in mae.items() if x},
        "rmse": {sig: float(np.mean(x)) for sig, x in rmse.items() if x},
        "gate": {"crisis_error_rate": total.error_rate, "mae_over_threshold": float(np.mean(rel))},
    }


def backtest_figure(backtests: dict[str, CrossingBacktest], limit: int = 4) -> Any:
    """Tail forecasts against what happened, for the series that came closest to their threshold."""
    closest = sorted(backtests, key=lambda n: -float(np.max(backtests[n].actual)) / backtests[n].threshold)[:limit]
    return tail_figure(backtests, closest, "actual (hourly mean)", {"prophet": "--"}, threshold="threshold")


FIT: CrossingFit[IoCrisisConfig] = CrossingFit(
    predictor=IoCrisisPredictor,
    fit_prophet=fit_series_prophet,
    forecasts=crisis_forecasts,
    primary="prophet",
    components=None,
    noun="series",
    nouns="series",
    series_name=series_name,
    entities=node_entities,
    metrics=crisis_metrics,
    figure=backtest_figure,
    recent_word="history",
)


class IoCrisisTrainer(CrossingTrainer):
    """Series with under ``min_points`` samples get no model (listed in ``skipped``)."""

    family = FAMILY
    fitting = FIT
