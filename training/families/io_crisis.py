"""Train io-crisis: one Prophet fit per node and signal, a crisis replay on the held-out tail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics_ai.crossing import DAY, HOUR, bin_means, level_offset, recent_window
from metrics_ai.entities import Key, entity_name
from metrics_ai.errors import TrainingError
from metrics_ai.families.io_crisis import (
    FAMILY,
    SIGNALS,
    IoCrisisConfig,
    IoCrisisPredictor,
    SeriesState,
    forecast_crisis,
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


@dataclass
class SeriesBacktest:
    """The tail of one series, its forecast and the replayed crisis calls."""

    tail_t: np.ndarray
    actual: np.ndarray
    forecast: np.ndarray
    threshold: float
    detection: DetectionCounts


def backtest_series(
    t: np.ndarray,
    v: np.ndarray,
    split: int,
    threshold: float,
    cfg: IoCrisisConfig,
    fitter: PointFitter | None = None,
) -> SeriesBacktest:
    """Fit on ``[:split]`` (with ``fitter``, see :func:`fit_series_prophet`); forecast the tail's hourly
    means; replay crisis calls on the tail."""
    state = fit_series_prophet(t[:split], v[:split], cfg, fitter)
    tail_t, actual = bin_means(t[split:], v[split:], HOUR)
    keep = tail_t <= t[split - 1] + cfg.horizon_days * DAY
    tail_t, actual = tail_t[keep], actual[keep]
    offset = level_offset(t[:split], v[:split], state.predict, cfg.level_hours * HOUR)

    def call(ht: np.ndarray, hv: np.ndarray, window: float) -> float | None:
        days = forecast_crisis(History(ht, hv), state, threshold, cfg).days
        return None if days is None else days * DAY

    detection = replay_tail(t, v, split, threshold, cfg.horizon_days * DAY, call)
    return SeriesBacktest(tail_t, actual, state.predict(tail_t) + offset, threshold, detection)


def fit_series(
    job: tuple[np.ndarray, np.ndarray, int, float, IoCrisisConfig],
) -> tuple[ProphetState, SeriesBacktest | None]:
    """One series' work (picklable for a process pool): backtest if the split allows, final fit."""
    t, v, split, threshold, cfg = job
    backtest = (
        backtest_series(t, v, split, threshold, cfg)
        if cfg.min_points <= split < len(t) - 1
        else None
    )
    return fit_series_prophet(t, v, cfg), backtest


class IoCrisisTrainer(Trainer):
    """Series with under ``min_points`` samples get no model (listed in ``skipped``)."""

    family = FAMILY

    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Backtest on the chronological tail, then refit each series on all its data."""
        s = self.settings
        cfg = FAMILY.config_from(s)
        work = crisis_work(frame)
        if not work:
            raise TrainingError(f"io-crisis: no {list(SIGNALS)} series in the data")
        states: dict[Key, SeriesState] = {}
        skipped: dict[str, str] = {}
        backtests: dict[str, SeriesBacktest] = {}
        jobs = []
        for key, (t, v) in work:
            if len(t) < cfg.min_points:
                skipped[series_name(key)] = (
                    f"{len(t)} points; a model needs at least {cfg.min_points}"
                )
            else:
                split = int(len(t) * s.train_fraction)
                jobs.append((series_name(key), (t, v, split, cfg.thresholds[key[2]], cfg)))
        results = self.executor.map(fit_series, jobs, "io-crisis series", progress)
        for key, (t, v) in work:
            name = series_name(key)
            recent = recent_window(t, v, cfg.recent_hours, cfg.recent_step)
            result = results.get(name)
            if result is None or result.value is None:  # too short, or the fit failed: drift only
                if result is not None:
                    skipped[name] = f"Prophet fit failed: {result.error}"
                states[key] = SeriesState(None, recent, skipped[name])
                continue
            state, backtest = result.value
            if backtest is not None:
                backtests[name] = backtest
            states[key] = SeriesState(state, recent)
        if not any(st.prophet for st in states.values()):
            raise TrainingError(f"io-crisis: no series could be modelled ({skipped})")
        return TrainOutcome(
            predictor=IoCrisisPredictor(cfg, states),
            config=cfg,
            metrics=crisis_metrics(backtests),
            entities=sorted({entity_name(cluster, node) for cluster, node, _ in states}),
            skipped=skipped,
            extra_files={REFERENCE_FILE: level_reference(frame_levels(frame, FAMILY.signals)).write},
            figures={"backtest": backtest_figure(backtests)} if backtests else {},
        )


def crisis_work(frame: pd.DataFrame) -> list[tuple[Key, tuple[np.ndarray, np.ndarray]]]:
    """Every (cluster, node, signal) series of the frame, signal by signal."""
    return [
        ((cluster, node, signal), tv)
        for signal in SIGNALS
        for (cluster, node), tv in series_by(frame, signal, ("cluster", "node")).items()
    ]


def series_name(key: tuple[str, ...]) -> str:
    """A series' entity name: ``cluster/node/signal`` (``node/signal`` when standalone)."""
    cluster, node, signal = key
    return f"{entity_name(cluster, node)}/{signal}"


def crisis_metrics(backtests: dict[str, SeriesBacktest]) -> dict[str, Any]:
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
        e = errors(b.actual, b.forecast)
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


def backtest_figure(backtests: dict[str, SeriesBacktest], limit: int = 4) -> Any:
    """Tail forecasts against what happened, for the series that came closest to their threshold."""
    from matplotlib.figure import Figure

    closest = sorted(
        backtests, key=lambda n: -float(np.max(backtests[n].actual)) / backtests[n].threshold
    )[:limit]
    fig = Figure(figsize=(10, 2.4 * len(closest)))
    for i, name in enumerate(closest):
        b = backtests[name]
        ax = fig.add_subplot(len(closest), 1, i + 1)
        hours = (b.tail_t - b.tail_t[0]) / HOUR
        ax.plot(hours, b.actual, color="black", label="actual (hourly mean)")
        ax.plot(hours, b.forecast, linestyle="--", label="prophet")
        ax.axhline(b.threshold, color="red", linewidth=0.8, label="threshold")
        ax.set_title(name, fontsize=9)
    fig.axes[0].legend(fontsize=7, loc="upper left")
    fig.axes[-1].set_xlabel("hours into the held-out tail")
    fig.tight_layout()
    return fig
