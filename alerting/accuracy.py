"""Live accuracy: every answer scored against what really happened once its time has come.

The client already holds each forecast and, a pass later, the history that followed it:

* resource-forecast: each answer's points (ensemble, lower, upper) wait until a later
  pass's history covers their timestamps, and are then scored against the value observed
  there (the nearest sample within half a step): the absolute error and whether it fell
  inside the interval. Rolling over the last ``window`` points per signal:
  ``metrics_ai_live_mae`` and ``metrics_ai_live_interval_coverage`` (nominal: the
  version's interval level, 0.8 by default), beside ``metrics_ai_backtest_mae``, the mean
  of the answers' own published backtest MAE (``backtest.mae_ensemble``) over the
  entities answered, in the same units;
* disk-eta: a finite ETA within the horizon waits until the disk crosses its threshold
  (the first sample at or above it after one below); the error is predicted minus actual
  fill time, ``metrics_ai_live_eta_error_days`` (mean absolute, rolling);
* io-crisis: each answer (crisis within the horizon, or not) waits until its horizon has
  passed and counts as a hit, miss, false alarm or correct negative by whether the signal
  reached its threshold in between (``metrics_ai_live_crisis_outcomes_total``).

Memory is bounded: per entity at most ``pending`` answers, one per ``1/pending`` of the
horizon, and entities that stop appearing are forgotten after a day past their horizon.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alerting import models
from metrics_ai.families.disk_eta import SIGNAL as DISK_SIGNAL
from metrics_ai.families.disk_eta import DiskEtaConfig
from metrics_ai.families.io_crisis import IoCrisisConfig

log = logging.getLogger("alerting")
DAY = 86400.0
OUTCOMES = ("hit", "miss", "false_alarm", "correct_negative")
Key = tuple[str, ...]


@dataclass
class Forecast:
    """One resource-forecast answer awaiting its actuals; ``done`` points are scored (or lost)."""

    issued: float
    times: np.ndarray
    yhat: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    tolerance: float
    done: int = 0


@dataclass
class Rolling:
    """The last ``size`` absolute errors (and interval hits) of one model and signal."""

    size: int
    errors: deque[float] = field(init=False)
    covered: deque[float] = field(init=False)
    scored: int = 0

    def __post_init__(self) -> None:
        self.errors = deque(maxlen=self.size)
        self.covered = deque(maxlen=self.size)

    def add(self, errors: np.ndarray, covered: np.ndarray | None = None) -> None:
        """Score some more points."""
        self.errors.extend(errors.tolist())
        if covered is not None:
            self.covered.extend(covered.tolist())
        self.scored += int(errors.size)


def unix(stamp: str) -> float:
    """Unix seconds of an RFC 3339 timestamp as the predictor writes them."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def score(forecast: Forecast, ts: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Absolute errors (and interval hits) of the forecast's points the history now covers.

    Points up to the history's end are settled: scored against the nearest sample within
    the tolerance, or lost when there is none (a gap, or older than the history).
    """
    rest = forecast.times[forecast.done :]
    ready = int(np.searchsorted(rest, ts[-1] + forecast.tolerance, side="right"))
    seg = slice(forecast.done, forecast.done + ready)
    forecast.done += ready
    if ready == 0:
        return np.empty(0), None
    times = forecast.times[seg]
    right = np.clip(np.searchsorted(ts, times), 0, ts.size - 1)
    left = np.clip(right - 1, 0, ts.size - 1)
    nearest = np.where(np.abs(ts[left] - times) <= np.abs(ts[right] - times), left, right)
    matched = np.abs(ts[nearest] - times) <= forecast.tolerance
    actual = vs[nearest][matched]
    errors = np.abs(forecast.yhat[seg][matched] - actual)
    if forecast.lower is None or forecast.upper is None:
        return errors, None
    inside = (forecast.lower[seg][matched] <= actual) & (actual <= forecast.upper[seg][matched])
    return errors, inside.astype(np.float64)


@dataclass
class Crossings:
    """Where one series stands against its threshold: seen up to ``seen``, above then or not."""

    seen: float = -math.inf
    above: bool = False
    starts: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    """Times the series went (or, hourly, stayed) at or above the threshold."""

    def update(self, ts: np.ndarray, vs: np.ndarray, threshold: float) -> list[float]:
        """Take the new samples; return the times the series crossed up (below -> at or above)."""
        if self.seen == -math.inf and ts.size:  # the first history: where it starts is no crossing
            self.above = bool(vs[0] >= threshold)
            if self.above:
                self.starts.append(float(ts[0]))
        new = ts > self.seen
        crossed = []
        for t, v in zip(ts[new].tolist(), vs[new].tolist(), strict=True):
            up = v >= threshold
            if up and (not self.above or t - self.starts[-1] >= 3600.0):
                if not self.above:
                    crossed.append(t)
                self.starts.append(t)
            self.above = up
        if ts.size:
            self.seen = max(self.seen, float(ts[-1]))
        return crossed


class LiveAccuracy(Collector):
    """Scores the client's answers against later passes' histories and renders the figures.

    Args:
        window: points (resource-forecast) or fills (disk-eta) in each rolling figure.
        pending: answers kept per entity across its horizon.
    """

    def __init__(self, window: int = 2000, pending: int = 24) -> None:
        self.window = window
        self.pending = pending
        self.crisis_horizon = IoCrisisConfig().horizon_days * DAY
        self.disk_horizon = DiskEtaConfig().horizon_days * DAY
        self._lock = threading.Lock()
        self._forecasts: dict[Key, deque[Forecast]] = {}
        self._rolling: dict[tuple[str, str], Rolling] = {}
        self._backtest: dict[str, dict[Key, float]] = {}
        self._crossings: dict[Key, Crossings] = {}
        self._calls: dict[Key, deque[tuple[float, bool]]] = {}
        self._etas: dict[Key, deque[tuple[float, float]]] = {}
        self._outcomes: dict[tuple[str, str], int] = {}
        self._latest = -math.inf

    def observe(self, model: str, instances: list[Any], labels: list[dict[str, str]], answers: list[Any]) -> None:
        """Score what the histories of one answered request settle, and keep its answers."""
        observe = {models.FORECAST: self._forecast, models.CRISIS: self._crisis, models.DISK: self._disk}.get(model)
        if observe is None:
            return
        with self._lock:
            for instance, lab, answer in zip(instances, labels, answers, strict=True):
                history = instance.get("history") or {}
                ts = np.asarray(history.get("timestamps", ()), dtype=np.float64)
                if not ts.size:
                    continue
                self._latest = max(self._latest, float(ts[-1]))
                try:
                    observe(lab, ts, np.asarray(history["values"], dtype=np.float64), answer)
                except (KeyError, TypeError, ValueError, IndexError) as exc:  # never fails the model's gauges
                    log.warning("%s: answer for %s not scored: %s", model, lab, exc)

    def rolling(self, model: str, signal: str) -> Rolling:
        """The rolling figures of one model and signal."""
        return self._rolling.setdefault((model, signal), Rolling(self.window))

    # --- per model ------------------------------------------------------------
    def _forecast(self, lab: dict[str, str], ts: np.ndarray, vs: np.ndarray, answer: dict[str, Any]) -> None:
        signal = lab["signal"]
        key = (lab.get("cluster", ""), lab["entity"], signal)
        pending = self._forecasts.setdefault(key, deque(maxlen=self.pending + 1))
        for forecast in pending:
            errors, inside = score(forecast, ts, vs)
            self.rolling(models.FORECAST, signal).add(errors, inside)
        while pending and pending[0].done == pending[0].times.size:
            pending.popleft()
        mae = (answer.get("backtest") or {}).get("mae_ensemble")
        if isinstance(mae, int | float) and math.isfinite(mae):
            self._backtest.setdefault(signal, {})[key] = float(mae)
        if not answer.get("ensemble") or not answer.get("timestamps"):
            return
        times = np.asarray([unix(t) for t in answer["timestamps"]])
        issued = float(ts[-1])
        spacing = (times[-1] - issued) / self.pending
        if pending and issued < pending[-1].issued + spacing:
            return

        def floats(name: str) -> np.ndarray | None:
            values = answer.get(name)
            return None if values is None else np.asarray(values, dtype=np.float64)

        step = float(answer.get("step_seconds") or (times[1] - times[0] if times.size > 1 else 60.0))
        yhat = floats("ensemble")
        assert yhat is not None
        pending.append(Forecast(issued, times, yhat, floats("lower"), floats("upper"), step / 2))

    def _crisis(self, lab: dict[str, str], ts: np.ndarray, vs: np.ndarray, answer: dict[str, Any]) -> None:
        signal = lab["signal"]
        key = (lab.get("cluster", ""), lab["node"], signal)
        crossings = self._crossings.setdefault(key, Crossings())
        crossings.update(ts, vs, float(answer["threshold"]))
        calls = self._calls.setdefault(key, deque(maxlen=self.pending + 1))
        while calls and calls[0][0] + self.crisis_horizon <= crossings.seen:
            issued, crisis = calls.popleft()
            reached = any(issued < t <= issued + self.crisis_horizon for t in crossings.starts)
            outcome = ("hit" if reached else "false_alarm") if crisis else ("miss" if reached else "correct_negative")
            self._outcomes[(signal, outcome)] = self._outcomes.get((signal, outcome), 0) + 1
            self.rolling(models.CRISIS, signal).scored += 1
        if answer.get("reason"):
            return
        issued = float(ts[-1])
        if not calls or issued >= calls[-1][0] + self.crisis_horizon / self.pending:
            calls.append((issued, bool(answer["crisis"])))

    def _disk(self, lab: dict[str, str], ts: np.ndarray, vs: np.ndarray, answer: dict[str, Any]) -> None:
        key = (lab.get("cluster", ""), lab["node"], lab["mountpoint"])
        crossings = self._crossings.setdefault(key, Crossings())
        etas = self._etas.setdefault(key, deque(maxlen=self.pending + 1))
        rolling = self.rolling(models.DISK, DISK_SIGNAL)
        for filled in crossings.update(ts, vs, float(answer["threshold"])):
            errors = [abs(predicted - filled) / DAY for issued, predicted in etas if issued < filled]
            rolling.add(np.asarray(errors))
            etas.clear()
        while etas and etas[0][0] + self.disk_horizon <= crossings.seen:
            etas.popleft()  # did not fill within the horizon: nothing to time
        days = (answer.get("eta_days") or {}).get("ensemble")
        if answer.get("reason") or crossings.above or not isinstance(days, int | float):
            return
        issued = float(ts[-1])
        if days * DAY > self.disk_horizon:
            return
        if not etas or issued >= etas[-1][0] + self.disk_horizon / self.pending:
            etas.append((issued, issued + float(days) * DAY))

    # --- exposition -----------------------------------------------------------
    def forget_stale(self) -> None:
        """Drop entities not seen for a day past their horizon (they vanished)."""
        limit = self._latest - DAY
        for key in [k for k, q in self._forecasts.items() if not q or q[-1].times[-1] < limit]:
            del self._forecasts[key]
            self._backtest.get(key[-1], {}).pop(key, None)
        for table, horizon in ((self._calls, self.crisis_horizon), (self._etas, self.disk_horizon)):
            for key in [k for k in table if self._crossings[k].seen + horizon < limit]:
                del table[key], self._crossings[key]

    def collect(self) -> Iterator[Metric]:
        """The live figures beside the published ones."""
        ms = ["model", "signal"]
        mae = GaugeMetricFamily(
            "metrics_ai_live_mae", "Mean absolute error of the latest scored forecast points.", labels=ms
        )
        coverage = GaugeMetricFamily(
            "metrics_ai_live_interval_coverage", "Share of the latest actuals inside the forecast interval.", labels=ms
        )
        backtest = GaugeMetricFamily(
            "metrics_ai_backtest_mae", "Published backtest MAE, mean over the entities answered.", labels=ms
        )
        eta = GaugeMetricFamily(
            "metrics_ai_live_eta_error_days", "Mean absolute error of disk-eta's ETA on disks that filled.", labels=ms
        )
        scored = CounterMetricFamily(
            "metrics_ai_live_scored", "Answers (points, fills, crisis calls) scored.", labels=ms
        )
        outcomes = CounterMetricFamily(
            "metrics_ai_live_crisis_outcomes",
            "io-crisis calls by what happened within the horizon.",
            labels=[*ms, "outcome"],
        )
        with self._lock:
            self.forget_stale()
            for (model, signal), rolling in sorted(self._rolling.items()):
                scored.add_metric([model, signal], rolling.scored)
                if not rolling.errors:
                    continue
                figure = float(np.mean(rolling.errors))
                (eta if model == models.DISK else mae).add_metric([model, signal], figure)
                if rolling.covered:
                    coverage.add_metric([model, signal], float(np.mean(rolling.covered)))
            for signal, per_key in sorted(self._backtest.items()):
                backtest.add_metric([models.FORECAST, signal], float(np.mean(list(per_key.values()))))
            for (signal, outcome), count in sorted(self._outcomes.items()):
                outcomes.add_metric([models.CRISIS, signal, outcome], count)
        yield from (mae, coverage, backtest, eta, scored, outcomes)
