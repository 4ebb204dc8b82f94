"""resource-forecast: the next HORIZON_MIN minutes of a signal, and is the latest value deviating?

Ensemble of Prophet + ARIMA(2,1,0) + LSTM (original system), evaluated in NumPy from
state fitted at training time; nothing is fitted on the request path. Fresh history
updates the state cheaply: ARIMA is filtered forward with its fitted parameters,
Prophet's fitted curve starts from the history's recent level (anchored), and the LSTM reads the
last ``seq_len`` points (see :mod:`metrics_ai.families.forecast.components`). A component whose
calibration MAE on a series was over ``gate_k`` (3) times the last-value naive MAE is not
served for that series (``null``, a note says why; the ensemble combines the rest).

Entities: the cluster name for cluster series (cpu, memory: mean over its nodes),
the node name for node series (io_wait, net_rx, net_tx) and for standalone nodes.
An entity the model has never seen, with history, gets the signal's pooled state
(``"model": "pooled"``, see :mod:`metrics_ai.families.forecast.engine`). A request without
history uses, in order, the fetcher (``"source": "prometheus"``) or the latest
points kept at training time (``"source": "training-state"``).

Resolution: every component runs only at the step its series (or the signal's pool)
was fitted at (``step_seconds`` in the answer; the trained steps are in the manifest's
``metrics.step_seconds``). A history at a finer step is averaged to it (interval means,
a note says so); a coarser or irregular one is a 400 naming ``history.timestamps`` and
the step, never a silently worse answer. The horizon is HORIZON_MIN at that step.
"""

from __future__ import annotations

from pathlib import Path

from metrics_ai.artifacts import Manifest
from metrics_ai.errors import RowError, RowNotFound
from metrics_ai.families.base import DomainPredictor
from metrics_ai.families.forecast.components import chosen
from metrics_ai.families.forecast.config import SIGNALS, ForecastConfig
from metrics_ai.families.forecast.engine import Engine, Job, history_step
from metrics_ai.families.forecast.models import ForecastRequest, ForecastResponse
from metrics_ai.families.forecast.state import ForecastState, SeriesModel
from metrics_ai.resolution import horizon_points, same_step, to_step
from metrics_ai.series import History

Loc = tuple[str | int, ...]
MAX_HORIZON = 1440
FIRST_TS, LAST_TS = -62_135_596_800.0, 253_402_300_799.0  # 0001-01-01, 9999-12-31T23:59:59 (RFC 3339)


class ForecastPredictor(DomainPredictor[ForecastRequest, ForecastResponse]):
    """Per-series fitted state, per-signal pools, NumPy LSTMs."""

    request = ForecastRequest

    def __init__(self, config: ForecastConfig, state: ForecastState) -> None:
        self.config = config
        self.state = state
        self.engine = Engine(state, config)

    @property
    def min_points(self) -> int:
        """Shortest history the components can use, plus one for the deviation check."""
        return max(c.min_points(self.config.seq_len) for c in chosen(self.config.components)) + 1

    def predict(self, request: ForecastRequest) -> ForecastResponse:
        """One forecast per row (each row resolved, in order, before any is forecast)."""
        rows = zip(request.entity, request.signal, request.history, strict=True)
        jobs = [self._job(i, entity, signal, history) for i, (entity, signal, history) in enumerate(rows)]
        return ForecastResponse.of(jobs, self.engine.run(jobs), self.config.crisis_thresholds)

    def smoke_request(self) -> ForecastRequest:
        """One known series without history (training-state) and one unseen entity with history."""
        pooled = [s for s in self.state.series.values() if s.step == self.state.pools[s.signal].step]
        first = pooled[0] if pooled else next(iter(self.state.series.values()))  # at its pool's step
        return ForecastRequest(
            entity=[first.entity, "smoke-unseen-entity"],
            signal=[first.signal, first.signal],
            history=[None, History(first.last_t, first.last_y)],
        )

    # --- rows -> jobs ---------------------------------------------------------
    def _job(self, row: int, entity: str, signal: str, history: History | None) -> Job:
        """Resolve request row ``row``: its state, its history at the model's step, checked."""
        history_fields = (("history", row, "values"), ("history", row, "timestamps"))
        if signal not in SIGNALS:
            raise RowError(("signal", row), f"unknown signal {signal!r}; expected one of {list(SIGNALS)}")
        if signal not in self.state.pools:
            raise RowError(
                ("signal", row),
                f"this model was trained without {signal!r}; it knows {sorted(self.state.pools)}",
            )
        series = self.state.series.get((entity, signal))
        pool = self.state.pools[signal]
        source = "request"
        if history is None:
            history, source = self._latest(entity, signal, series)
            if history is None:
                raise RowNotFound(
                    ("entity", row),
                    f"no {signal} state for {entity!r} and no history in the request; "
                    f"send history with at least {self.min_points} points",
                )
        notes: list[str] = []
        if source == "request":
            history, notes = self._at_model_step(history, series.step if series else pool.step, *history_fields)
            self._check_history(history, *history_fields)
        if series is None and not any(c.pooled for c in chosen(self.config.components)):
            raise RowNotFound(("entity", row), f"{entity!r} is unknown and prophet needs a fitted curve")
        return Job(entity, signal, series, pool, history.timestamps, history.values, source, history_fields[0], notes)

    def _at_model_step(
        self, history: History, model_step: float, values_field: Loc, timestamps_field: Loc
    ) -> tuple[History, list[str]]:
        """The history at the step the components were fitted at, and a note when it was resampled.

        Every component of a series (and of a signal's pool) is fitted at one step
        (``SeriesModel.step``); a finer history is averaged to it, a coarser or
        irregular one cannot serve any component: 400 naming the step.
        """
        step = history_step(history.timestamps)
        if len(history) < 2 or same_step(step, model_step):
            return history, []
        resampled = to_step(history.timestamps, history.values, model_step)
        if resampled is None:
            why = "coarser than" if step > model_step else "too irregular (long gaps) to average to"
            raise RowError(
                timestamps_field,
                f"history has a {step:g} s step, {why} the {model_step:g} s step every component of this "
                f"model was fitted at; send history at {model_step:g} s (or finer, it is averaged), "
                f"at least {self.min_points} points at {model_step:g} s",
            )
        t, y = resampled
        if t.size < self.min_points:
            raise RowError(
                timestamps_field,
                f"history at a {step:g} s step averages to {t.size} points at the {model_step:g} s step "
                f"this model was fitted at; needs at least {self.min_points} "
                f"({self.min_points * model_step:g} s of history)",
            )
        note = (
            f"history resampled from a {step:g} s step to the model's {model_step:g} s step "
            f"(interval means, {len(history)} -> {t.size} points)"
        )
        return History(t, y), [note]

    def _check_history(self, history: History, values_field: Loc, timestamps_field: Loc) -> None:
        if len(history) < self.min_points:
            raise RowError(
                values_field,
                f"needs at least {self.min_points} points at the model's step for "
                f"{','.join(self.config.components)} (lstm reads the last {self.config.seq_len}, plus one for "
                f"the deviation check); got {len(history)}",
            )
        step = history_step(history.timestamps)
        if self.config.horizon_min * 60 / step > MAX_HORIZON:
            raise RowError(
                timestamps_field,
                f"a {step:g} s step gives more than {MAX_HORIZON} horizon points; "
                "send data at least "
                f"{self.config.horizon_min * 60 / MAX_HORIZON:g} s apart",
            )
        end = history.timestamps[-1] + step * horizon_points(self.config.horizon_min, step)
        if history.timestamps[0] < FIRST_TS or end > LAST_TS:
            raise RowError(timestamps_field, "timestamps (and the forecast after them) must lie in years 1 to 9999")

    def _latest(self, entity: str, signal: str, series: SeriesModel | None) -> tuple[History | None, str]:
        """Fetcher first (when set, the entity is known and it has enough data), else the training-time state.

        Only entities the model knows are fetched: a caller cannot make the predictor query
        Prometheus for names it invents. The fetch asks for the step the series was fitted at.
        """
        if self.fetcher is not None and series is not None:
            step = int(series.step)
            fetched = self.fetcher.fetch(signal, series.labels, (self.min_points + 10) * step, step)
            if fetched is not None and len(fetched) >= self.min_points:
                return fetched, "prometheus"
        if series is not None and series.last_y.size >= self.min_points:
            return History(series.last_t, series.last_y), "training-state"
        return None, ""

    # --- persistence ----------------------------------------------------
    def save(self, folder: Path) -> None:
        """forecast.json (config, series, pools) + lstm.npz."""
        self.state.save(folder, self.config.model_dump(mode="json"))

    @classmethod
    def load(cls, folder: Path, manifest: Manifest) -> ForecastPredictor:
        """Read what :meth:`save` wrote."""
        state, config = ForecastState.load(folder)
        return cls(ForecastConfig.model_validate(config), state)
