"""Train disk-eta: one Prophet fit per disk, a usage backtest and an alarm replay on the tail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from metrics_ai.crossing import DAY, HOUR, bin_means, level_offset, recent_window, robust_slope
from metrics_ai.entities import Key, entity_name
from metrics_ai.errors import TrainingError
from metrics_ai.families.disk_eta import (
    FAMILY,
    LABELS,
    SIGNAL,
    DiskEtaConfig,
    DiskEtaPredictor,
    DiskState,
    estimate,
    trend_series,
)
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.series import History
from training.crossing_backtest import DetectionCounts, errors, replay_tail, series_by
from training.families.base import (
    REFERENCE_FILE,
    Progress,
    Trainer,
    TrainOutcome,
    frame_levels,
    level_reference,
    no_progress,
)
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


@dataclass
class DiskBacktest:
    """The tail of one disk and what each component forecast for it."""

    tail_t: np.ndarray
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    detection: DetectionCounts = field(default_factory=DetectionCounts)


def backtest_disk(
    t: np.ndarray, v: np.ndarray, split: int, cfg: DiskEtaConfig, fitter: PointFitter | None = None
) -> tuple[DiskBacktest, ProphetState]:
    """Fit on ``[:split]`` (with ``fitter``, see :func:`fit_disk_prophet`); forecast the tail's hourly means;
    replay alarms on the tail."""
    state = fit_disk_prophet(t[:split], v[:split], cfg, fitter)
    tail_t, actual = bin_means(t[split:], v[split:], HOUR)
    keep = tail_t <= t[split - 1] + cfg.horizon_days * DAY
    tail_t, actual = tail_t[keep], actual[keep]
    head_t, head_v = t[:split], v[:split]
    head_trend = trend_series(head_t, head_v, cfg)
    slope = robust_slope(head_t, head_trend, window=cfg.slope_window_hours * HOUR)
    linear = head_v[-1] + slope * (tail_t - head_t[-1])
    offset = level_offset(head_t, head_trend, state.predict, cfg.level_hours * HOUR)
    prophet = state.predict(tail_t) + offset
    result = DiskBacktest(
        tail_t,
        actual,
        {"linear": linear, "prophet": prophet, "ensemble": np.maximum(linear, prophet)},
    )

    def alarm(ht: np.ndarray, hv: np.ndarray, window: float) -> float | None:
        eta = estimate(History(ht, hv), state, cfg).ensemble
        return None if eta is None else eta * DAY

    result.detection = replay_tail(t, v, split, cfg.threshold, cfg.horizon_days * DAY, alarm)
    return result, state


def fit_disk(
    job: tuple[np.ndarray, np.ndarray, int, DiskEtaConfig],
) -> tuple[ProphetState, DiskBacktest | None]:
    """One disk's work (picklable for a process pool): backtest if the split allows, final fit."""
    t, v, split, cfg = job
    backtest = backtest_disk(t, v, split, cfg)[0] if cfg.min_points <= split < len(t) - 1 else None
    return fit_disk_prophet(t, v, cfg), backtest


class DiskEtaTrainer(Trainer):
    """Disks with under ``min_points`` samples get no model (listed in ``skipped``)."""

    family = FAMILY

    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Backtest on the chronological tail, then refit each disk on all its data."""
        cfg = FAMILY.config_from(self.settings)
        series = {cast(Key, key): tv for key, tv in series_by(frame, SIGNAL, LABELS).items()}
        if not series:
            raise TrainingError(f"disk-eta: no {SIGNAL} series in the data")
        disks: dict[Key, DiskState] = {}
        skipped: dict[str, str] = {}
        backtests: dict[str, DiskBacktest] = {}
        detection = DetectionCounts()
        jobs = []
        for key, (t, v) in series.items():
            name = disk_name(key)
            if len(t) < cfg.min_points:
                skipped[name] = f"{len(t)} points; a model needs at least {cfg.min_points}"
            else:
                jobs.append((name, (t, v, int(len(t) * self.settings.train_fraction), cfg)))
        results = self.executor.map(fit_disk, jobs, "disk-eta disks", progress)
        for key, (t, v) in series.items():
            name = disk_name(key)
            recent = recent_window(t, v, cfg.recent_hours, cfg.recent_step)
            result = results.get(name)
            if result is None or result.value is None:  # too short, or the fit failed: linear only
                if result is not None:
                    skipped[name] = f"Prophet fit failed: {result.error}"
                disks[key] = DiskState(None, recent, skipped[name])
                continue
            state, backtest = result.value
            if backtest is not None:
                backtests[name] = backtest
                detection += backtest.detection
            disks[key] = DiskState(state, recent)
        if not any(d.prophet for d in disks.values()):
            raise TrainingError(f"disk-eta: no disk could be modelled ({skipped})")
        return TrainOutcome(
            predictor=DiskEtaPredictor(cfg, disks),
            config=cfg,
            metrics=disk_metrics(backtests, detection),
            entities=sorted(disk_name(key) for key in disks),
            components=list(COMPONENTS),
            skipped=skipped,
            extra_files={REFERENCE_FILE: level_reference(frame_levels(frame, FAMILY.signals)).write},
            figures={"backtest": backtest_figure(backtests, cfg.threshold)} if backtests else {},
        )


def disk_name(key: tuple[str, ...]) -> str:
    """A disk's entity name: ``cluster/node:mountpoint`` (``node:mountpoint`` when standalone)."""
    cluster, node, mount = key
    return f"{entity_name(cluster, node)}:{mount}"


def disk_metrics(backtests: dict[str, DiskBacktest], detection: DetectionCounts) -> dict[str, Any]:
    """Mean MAE/RMSE per component over disks, per-disk ensemble MAE, alarm counts, gate."""
    if not backtests:
        return {"disks": 0, "note": "no disk is long enough for a backtest"}
    per = {c: [errors(b.actual, b.forecasts[c]) for b in backtests.values()] for c in COMPONENTS}
    mae = {c: float(np.mean([e[0] for e in per[c]])) for c in COMPONENTS}
    rmse = {c: float(np.mean([e[1] for e in per[c]])) for c in COMPONENTS}
    return {
        "disks": len(backtests),
        "mae": mae,
        "rmse": rmse,
        "mae_by_disk": {
            name: round(e[0], 4) for name, e in zip(backtests, per["ensemble"], strict=True)
        },
        "detection": detection.as_dict(),
        "gate": {"disk_mae": mae["ensemble"]},
    }


def backtest_figure(backtests: dict[str, DiskBacktest], threshold: float, limit: int = 4) -> Any:
    """Tail forecasts against what happened, for the disks with the largest ensemble error."""
    from matplotlib.figure import Figure

    worst = sorted(
        backtests, key=lambda n: -errors(backtests[n].actual, backtests[n].forecasts["ensemble"])[0]
    )[:limit]
    fig = Figure(figsize=(10, 2.4 * len(worst)))
    for i, name in enumerate(worst):
        b = backtests[name]
        ax = fig.add_subplot(len(worst), 1, i + 1)
        hours = (b.tail_t - b.tail_t[0]) / HOUR
        ax.plot(hours, b.actual, color="black", label="actual")
        for c in COMPONENTS:
            ax.plot(hours, b.forecasts[c], label=c, linestyle="--" if c != "ensemble" else "-")
        ax.axhline(threshold, color="red", linewidth=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("used %")
    fig.axes[0].legend(fontsize=7, loc="upper left")
    fig.axes[-1].set_xlabel("hours into the held-out tail")
    fig.tight_layout()
    return fig
