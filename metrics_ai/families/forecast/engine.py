"""Batch evaluation of resource-forecast requests from fitted state (no fitting).

Each request becomes a :class:`Job` (a resolved history and the state that serves
it). For every job the components forecast from two cut points: the end of the
history (the answer) and one point earlier (the one-step-ahead forecast of the
latest value, for the deviation check). LSTM windows of all jobs that share a
network go through one forward pass, so a batch costs little more than one request.

A component gated for a series at training (``SeriesModel.gated``: its calibration MAE
over ``gate_k`` times the naive MAE) is answered as ``null`` with a note and left out of
the ensemble (:func:`~metrics_ai.families.forecast.combiner.served`, as in the backtest).

Fallbacks (documented in the family's module docstring):

- unseen entity: ARIMA with the signal's median parameters, the signal's LSTM(s)
  scaled by the request's own range, the signal's mean weights, intervals from
  the signal's relative half-widths times the request's mean |one-step change|;
  Prophet does not run (a fitted curve belongs to one entity);
- history at another step than the model's: the predictor brings it to the model's
  step first (:mod:`metrics_ai.resolution`) or refuses it; should one get here, the
  LSTM does not run (it was trained at the model's step).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metrics_ai.errors import RowError
from metrics_ai.families.forecast.combiner import Combiner, served
from metrics_ai.families.forecast.components import (
    COMPONENTS,
    DEFAULT_ANCHOR,
    LSTM,
    NAMES,
    Parts,
    Window,
    lstm_forecast,
)
from metrics_ai.families.forecast.config import ForecastConfig
from metrics_ai.families.forecast.numeric import MinMax, bounded, horizon_index, interval_unit, windows_at
from metrics_ai.families.forecast.state import ForecastState, SeriesModel, SignalPool
from metrics_ai.intervals import DeviationRule
from metrics_ai.resolution import horizon_points, same_step
from metrics_ai.series import clip_to_range


@dataclass
class Job:
    """One instance to answer: its history (t unix seconds, y) and the state serving it."""

    entity: str
    signal: str
    series: SeriesModel | None
    pool: SignalPool | None
    t: np.ndarray
    y: np.ndarray
    source: str
    loc: tuple[str | int, ...] = ("history", 0, "values")
    """How errors about this job's values name the field (the request model's terms)."""
    notes: list[str] = dataclasses.field(default_factory=list)
    """What was done to the history before the components ran (resampling)."""


@dataclass
class Outcome:
    """The forecast of one job."""

    times: np.ndarray
    ensemble: np.ndarray
    components: dict[str, np.ndarray | None]
    lower: np.ndarray
    upper: np.ndarray
    deviation: dict[str, Any]
    backtest: dict[str, Any]
    model: str
    step: float
    notes: list[str] = field(default_factory=list)


def history_step(t: np.ndarray) -> float:
    """Median spacing of a history in seconds."""
    return float(np.median(np.diff(t))) if t.size > 1 else 60.0


class Engine:
    """Evaluates jobs against one loaded :class:`ForecastState`."""

    def __init__(self, state: ForecastState, config: ForecastConfig) -> None:
        self.state = state
        self.config = config
        self.combiner = Combiner(config.weighting)
        self.rule = DeviationRule(
            config.deviation_warning_k,
            config.deviation_critical_k,
            config.deviation_warning_pct,
            config.deviation_critical_pct,
            config.deviation_rule,
        )

    def run(self, jobs: list[Job]) -> list[Outcome]:
        """Forecast every job; LSTM windows are batched per network."""
        with np.errstate(all="ignore"):  # absurd magnitudes overflow: _finish checks and names the field
            partial = [self._components(job) for job in jobs]
            self._run_lstms(jobs, partial)
            return [self._finish(job, p) for job, p in zip(jobs, partial, strict=True)]

    # --- per job --------------------------------------------------------
    def _components(self, job: Job) -> dict[str, Any]:
        cfg = self.config
        step = history_step(job.t)
        horizon = horizon_points(cfg.horizon_min, step)
        model_step = job.series.step if job.series else (job.pool.step if job.pool else float(cfg.step))
        at_model_step = same_step(step, model_step)
        cuts = np.asarray([job.y.size - 2, job.y.size - 1])
        out: dict[str, Any] = {
            "step": step,
            "horizon": horizon,
            "same_step": at_model_step,
            "model_step": model_step,
            "notes": list(job.notes),
            "forecasts": dict.fromkeys(NAMES),
        }
        notes: list[str] = out["notes"]
        for c in COMPONENTS:
            if c.name not in cfg.components:
                notes.append(f"{c.name}: not part of this model (FORECAST_COMPONENTS)")
        series, pool = job.series, job.pool
        parts = Parts(
            prophet=series.prophet if series else None,
            anchor=series.anchor if series else DEFAULT_ANCHOR,
            arima=series.arima if series else (pool.arima if pool else None),
        )
        window = Window(job.t, job.y, cuts, step, horizon)
        for c in COMPONENTS:
            if c.name == LSTM.name or c.name not in cfg.components:
                continue  # the LSTM runs batched over every job that shares a network (_run_lstms)
            out["forecasts"][c.name] = c.forecast(parts, window)
            if out["forecasts"][c.name] is None and not c.pooled:
                notes.append(f"{c.name}: no fitted curve for an entity the model has not seen")
        if LSTM.name in cfg.components:
            if not at_model_step:
                notes.append(f"lstm: trained at a {model_step:g} s step, history has {step:g} s")
            else:
                keys = [series.lstm] if series and series.lstm else (pool.lstms if pool else [])
                scaler = None
                if cfg.lstm_scaling == "series":
                    scaler = series.scaler if series and series.scaler else MinMax.fit(job.y)
                out["lstm"] = (keys, windows_at(job.y, cuts, cfg.seq_len), scaler)
        return out

    def _run_lstms(self, jobs: list[Job], partial: list[dict[str, Any]]) -> None:
        groups: dict[str, list[tuple[int, np.ndarray, MinMax | None]]] = {}
        for i, p in enumerate(partial):
            if "lstm" in p:
                keys, windows, scaler = p["lstm"]
                for key in keys:
                    groups.setdefault(key, []).append((i, windows, scaler))
        sums: dict[int, list[np.ndarray]] = {}
        for key, rows in groups.items():
            net = self.state.lstms[key]
            windows = np.concatenate([w for _, w, _ in rows])
            scalers = None
            if self.config.lstm_scaling == "series":
                scalers = [s for _, w, s in rows for _ in range(w.shape[0]) if s is not None]
            pred = lstm_forecast(net, windows, scalers)
            start = 0
            for i, w, _ in rows:
                sums.setdefault(i, []).append(pred[start : start + w.shape[0]])
                start += w.shape[0]
        for i, preds in sums.items():
            p = partial[i]
            lead = p["step"] * np.arange(1, p["horizon"] + 1)
            idx = horizon_index(lead, float(p["model_step"]), preds[0].shape[1])
            p["forecasts"]["lstm"] = np.mean(preds, axis=0)[:, idx]

    def _finish(self, job: Job, p: dict[str, Any]) -> Outcome:
        step, horizon = p["step"], p["horizon"]
        gated = job.series.gated if job.series else {}
        forecasts = bounded(served(p["forecasts"], gated), job.signal)
        for name, ratio in gated.items():
            p["notes"].append(
                f"{name}: not served for this series: its calibration MAE was {ratio:.2f}x the last-value "
                f"naive's (over gate_k {self.config.gate_k:g})"
            )
        ref = job.series or job.pool
        assert ref is not None
        lead = step * np.arange(1, horizon + 1)
        idx = horizon_index(lead, ref.step, len(next(iter(ref.weights.values()), [1.0])))
        weights = {k: np.asarray(v)[idx] for k, v in ref.weights.items()}
        for name in NAMES:
            weights.setdefault(name, np.ones(horizon))
        ens = self.combiner.combine(forecasts, weights)
        halfwidth = self._halfwidths(job, lead)  # [2, H]: before the latest point, at it
        if not (np.isfinite(ens).all() and np.isfinite(halfwidth).all()):
            raise RowError(job.loc, "values too large to forecast (the arithmetic overflows)")
        deviation = self.rule.check(job.y[-1], ens[0, 0], halfwidth[0, 0])
        times = job.t[-1] + lead
        return Outcome(
            times=times,
            ensemble=ens[1],
            components={k: (None if v is None else v[1]) for k, v in forecasts.items()},
            lower=clip_to_range(ens[1] - halfwidth[1], job.signal),
            upper=clip_to_range(ens[1] + halfwidth[1], job.signal),
            deviation=deviation,
            backtest=dict(ref.backtest),
            model="entity" if job.series else "pooled",
            step=step,
            notes=p["notes"],
        )

    def _halfwidths(self, job: Job, lead: np.ndarray) -> np.ndarray:
        """Conformal half-widths ``[2, H]`` at both cuts: relative width x the local unit."""
        ref = job.series or job.pool
        assert ref is not None
        rel = ref.rel_halfwidth[horizon_index(lead, ref.step, ref.rel_halfwidth.size)]
        scale = job.series.scale if job.series else float(np.mean(np.abs(np.diff(job.y))))
        cuts = np.asarray([job.y.size - 2, job.y.size - 1])
        unit = interval_unit(job.y, cuts, self.config.seq_len, scale)
        return unit[:, None] * rel[None, :]
