"""Train disk-eta: one Prophet fit per disk, a usage backtest and an alarm replay on the tail.

The flow is the crossing family's (:mod:`training.families.crossing`); this module is what
is disk-eta's own: the disk Prophet, the three usage forecasts of the tail, names,
metrics and figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from metrics_ai.crossing import HOUR, level_offset, robust_slope
from metrics_ai.entities import Key, entity_name
from metrics_ai.families.disk_eta import FAMILY, DiskEtaConfig, DiskEtaPredictor, trend_series
from metrics_ai.prophet_numpy import ProphetState
from training.crossing_backtest import DetectionCounts, errors
from training.families.crossing import CrossingBacktest, CrossingFit, CrossingTrainer, tail_figure
from training.prophet_export import PointFitter, fit_coarse, weekly_fits

COMPONENTS: tuple[str, ...] = ("linear", "prophet", "ensemble")


def fit_disk_prophet(
    t: np.ndarray, v: np.ndarray, cfg: DiskEtaConfig, fitter: PointFitter | None = None
) -> ProphetState:
    """The original system's disk Prophet: daily + weekly seasonality, changepoint prior 0.05.

    Weekly seasonality needs ``cfg.weekly_min_days`` (two weeks) of history, Prophet's
    own "auto" rule: from a single week a weekly term cannot be told apart from the
    trend, and it replays a one-off event (a deploy's step) one week later as a
    false alarm. A one-off jump of the last 48 h is taken out first (``trend_series``).
    ``fitter`` replaces the cold fit (the update's warm refit, :mod:`training.updates.prophet`).
    """
    return fit_coarse(
        t,
        trend_series(t, v, cfg),
        fitter=fitter,
        daily_seasonality=True,
        weekly_seasonality=weekly_fits(t, cfg.weekly_min_days),
        changepoint_prior_scale=cfg.changepoint_prior_scale,
        changepoint_range=cfg.changepoint_range,
    )


def disk_forecasts(
    head_t: np.ndarray, head_v: np.ndarray, tail_t: np.ndarray, state: ProphetState, cfg: DiskEtaConfig
) -> dict[str, np.ndarray]:
    """Usage over the tail: the robust linear trend, the level-corrected Prophet curve, their maximum."""
    head_trend = trend_series(head_t, head_v, cfg)
    slope = robust_slope(head_t, head_trend, window=cfg.slope_window_hours * HOUR)
    linear = head_v[-1] + slope * (tail_t - head_t[-1])
    offset = level_offset(head_t, head_trend, state.predict, cfg.level_hours * HOUR)
    prophet = state.predict(tail_t) + offset
    return {"linear": linear, "prophet": prophet, "ensemble": np.maximum(linear, prophet)}


def disk_name(key: tuple[str, ...]) -> str:
    """A disk's entity name: ``cluster/node:mountpoint`` (``node:mountpoint`` when standalone)."""
    cluster, node, mount = key
    return f"{entity_name(cluster, node)}:{mount}"


def disk_entities(keys: Iterable[Key]) -> list[str]:
    """A version's entities: its disks."""
    return sorted(disk_name(key) for key in keys)


def disk_metrics(backtests: dict[str, CrossingBacktest]) -> dict[str, Any]:
    """Mean MAE/RMSE per component over disks, per-disk ensemble MAE, alarm counts (summed), gate."""
    if not backtests:
        return {"disks": 0, "note": "no disk is long enough for a backtest"}
    detection = DetectionCounts()
    for b in backtests.values():
        detection += b.detection
    per = {c: [errors(b.actual, b.forecasts[c]) for b in backtests.values()] for c in COMPONENTS}
    mae = {c: float(np.mean([e[0] for e in per[c]])) for c in COMPONENTS}
    rmse = {c: float(np.mean([e[1] for e in per[c]])) for c in COMPONENTS}
    return {
        "disks": len(backtests),
        "mae": mae,
        "rmse": rmse,
        "mae_by_disk": {name: round(e[0], 4) for name, e in zip(backtests, per["ensemble"], strict=True)},
        "detection": detection.as_dict(),
        "gate": {"disk_mae": mae["ensemble"]},
    }


def backtest_figure(backtests: dict[str, CrossingBacktest], limit: int = 4) -> Any:
    """Tail forecasts against what happened, for the disks with the largest ensemble error."""
    worst = sorted(backtests, key=lambda n: -errors(backtests[n].actual, backtests[n].forecasts["ensemble"])[0])[:limit]
    styles = {c: "--" if c != "ensemble" else "-" for c in COMPONENTS}
    return tail_figure(backtests, worst, "actual", styles, ylabel="used %")


FIT: CrossingFit[DiskEtaConfig] = CrossingFit(
    predictor=DiskEtaPredictor,
    fit_prophet=fit_disk_prophet,
    forecasts=disk_forecasts,
    primary="ensemble",
    components=COMPONENTS,
    noun="disk",
    nouns="disks",
    series_name=disk_name,
    entities=disk_entities,
    metrics=disk_metrics,
    figure=backtest_figure,
    recent_word="usage",
    current_metrics=("detection",),
)


class DiskEtaTrainer(CrossingTrainer):
    """Disks with under ``min_points`` samples get no model (listed in ``skipped``)."""

    family = FAMILY
    fitting = FIT
