"""Fitted state of resource-forecast: one :class:`SeriesModel` per (entity, signal),
one :class:`SignalPool` per signal (the fallback for entities never seen), and the
LSTM weights they point at. Stored as ``forecast.json`` + ``lstm.npz`` (no pickle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.errors import ArtifactError
from metrics_ai.families.base import FamilyConfig
from metrics_ai.forecast_components import COMPONENTS, MinMax
from metrics_ai.lstm_numpy import NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState

STATE_FILE = "forecast.json"
LSTM_FILE = "lstm.npz"
FORMAT = 1
#: signals forecast per cluster (mean over its nodes) or per standalone node
CLUSTER_SIGNALS: tuple[str, ...] = ("cpu", "memory")
#: the anchor window of a state saved before anchors were calibrated (the best fixed one measured)
DEFAULT_ANCHOR = 3
#: signals forecast per node
NODE_SIGNALS: tuple[str, ...] = ("io_wait", "net_rx", "net_tx")


class ForecastConfig(FamilyConfig):
    """Hyper-parameters of resource-forecast (original system where it names them)."""

    horizon_min: int = Field(15, ge=1)
    step: int = Field(60, ge=1)
    """STEP: the finest step a series is fitted at; each series keeps its native step
    (``SeriesModel.step``, at least this), and its horizon is horizon_min at that step."""
    components: tuple[str, ...] = COMPONENTS
    weighting: str = Field("median", pattern="^(equal|backtest|median)$")
    """Combiner: equal mean (original), inverse-backtest-MAE weights per step, or median."""
    gate_k: float = Field(3.0, gt=0)
    """Per-series component gate: a component whose calibration MAE on a series is over this many
    times the last-value naive MAE is not served for that series (``SeriesModel.gated``)."""
    seq_len: int = Field(60, ge=2)
    lstm_scaling: str = Field("window", pattern="^(window|series)$")
    """MinMax per input window (level- and entity-free) or over the series' training range."""
    lstm_units: tuple[int, ...] = (50, 50)
    lstm_epochs: int = Field(10, ge=1)
    lstm_patience: int = Field(3, ge=1)
    lstm_batch: int = Field(32, ge=1)
    """Per-series LSTM batch (Keras' default): a few hundred windows still give many steps."""
    lstm_pooled_batch: int = Field(256, ge=1)
    lstm_max_windows: int = Field(512, ge=16)
    """Per-series LSTM: training windows are strided down to at most this many."""
    lstm_pooled_max_windows: int = Field(2048, ge=16)
    """Pooled LSTM (one per node signal): windows over all its entities, strided."""
    pooled_signals: tuple[str, ...] = NODE_SIGNALS
    """Signals whose LSTM is pooled across entities (many per-node series)."""
    changepoint_prior_scale: float = Field(0.05, gt=0)
    prophet_interval: int = Field(300, ge=1)
    """Prophet is fitted on means over this many seconds (it is continuous in time)."""
    anchors: tuple[int, ...] = (1, 2, 3, 6, 12)
    """Candidate windows (points) of the level Prophet's curve is anchored to, picked on the
    calibration window (measured against residual corrections: docs/BENCHMARKS.md, section 3.4)."""
    arima_order: tuple[int, int, int] = (2, 1, 0)
    arima_fit_points: int = Field(2000, ge=50)
    """ARIMA is estimated on the last this many points of the training part (MLE cost is per point)."""
    calibration_fraction: float = Field(0.2, gt=0, lt=0.9)
    """Tail of the training part that sets weights, half-lives and intervals (LSTM validation)."""
    max_cuts: int = Field(1000, ge=10)
    """Test-tail cut points per series (strided beyond this)."""
    max_calibration_cuts: int = Field(500, ge=10)
    """Calibration cut points per series (strided beyond this)."""
    interval_level: float = Field(0.8, gt=0, lt=1)
    """Conformal, in units of the mean |one-step change| over the last seq_len points."""
    state_points: int = Field(180, ge=8)
    """Latest points kept per series for requests without history."""
    deviation_warning_k: float = 1.5
    deviation_critical_k: float = 3.0
    deviation_warning_pct: float = 10.0
    deviation_critical_pct: float = 25.0
    deviation_rule: str = Field("both", pattern="^(both|either)$")
    """Deviation: absolute AND percentage test (``both``) or either (the original's OR)."""
    crisis_thresholds: dict[str, float] = Field(
        default_factory=lambda: {"io_wait": 0.30, "net_rx": 9.5e8, "net_tx": 9.5e8}
    )
    """Signals whose answer says whether the ensemble crosses this threshold (IO_WAIT_THRESHOLD, NET_THRESHOLD)."""

    @property
    def horizon(self) -> int:
        """Horizon points at STEP."""
        return self.horizon_at(self.step)

    def horizon_at(self, step: float) -> int:
        """Horizon points at ``step`` seconds (15 minutes at 300 s: 3)."""
        return max(1, int((self.horizon_min * 60) // step))


def _weights_to_json(weights: dict[str, np.ndarray]) -> dict[str, list[float]]:
    return {k: [float(x) for x in v] for k, v in weights.items()}


def _weights_from_json(raw: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in raw.items() if k in COMPONENTS}


@dataclass
class SeriesModel:
    """Everything the predictor needs for one known (entity, signal).

    Attributes:
        labels: how a fetcher finds the series ({"cluster": c} or {"cluster": c, "node": n}).
        step: the series' step in seconds (horizon = horizon_min at this step).
        prophet, anchor: fitted curve and the window (points) of the recent level its
            forecast starts from (:func:`~metrics_ai.forecast_components.prophet_forecast_at`).
        arima: fitted ARIMA(p,1,0) coefficients.
        lstm, scaler: key of the LSTM weights and this series' MinMax range.
        weights: component -> ensemble weight per horizon step.
        rel_halfwidth: calibrated interval half-width per horizon step, in units of
            the series' recent mean |one-step change| (see ``local_scale``).
        scale: mean |one-step change| in training (floors the interval unit).
        backtest: MAE/RMSE per component and ensemble on the held-out tail.
        last_t, last_y: the latest points seen in training (the "training-state" source).
        gated: components not served for this series -> their calibration MAE / naive MAE
            (over ``ForecastConfig.gate_k``); empty in states saved before the gate.
    """

    entity: str
    signal: str
    labels: dict[str, str]
    step: float
    prophet: ProphetState | None
    anchor: int
    arima: ArimaState | None
    lstm: str | None
    scaler: MinMax | None
    weights: dict[str, np.ndarray]
    rel_halfwidth: np.ndarray
    scale: float
    backtest: dict[str, Any]
    last_t: np.ndarray
    last_y: np.ndarray
    gated: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "entity": self.entity,
            "signal": self.signal,
            "labels": self.labels,
            "step": self.step,
            "prophet": self.prophet.to_dict() if self.prophet else None,
            "anchor": self.anchor,
            "arima": self.arima.to_dict() if self.arima else None,
            "lstm": self.lstm,
            "scaler": [self.scaler.lo, self.scaler.hi] if self.scaler else None,
            "weights": _weights_to_json(self.weights),
            "rel_halfwidth": [float(x) for x in self.rel_halfwidth],
            "scale": self.scale,
            "backtest": self.backtest,
            "last_t": [float(x) for x in self.last_t],
            "last_y": [float(x) for x in self.last_y],
            "gated": self.gated,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SeriesModel:
        """Inverse of :meth:`to_dict`."""
        scaler = raw.get("scaler")
        return cls(
            entity=str(raw["entity"]),
            signal=str(raw["signal"]),
            labels={str(k): str(v) for k, v in raw["labels"].items()},
            step=float(raw["step"]),
            prophet=ProphetState.from_dict(raw["prophet"]) if raw.get("prophet") else None,
            anchor=int(raw.get("anchor", DEFAULT_ANCHOR)),
            arima=ArimaState.from_dict(raw["arima"]) if raw.get("arima") else None,
            lstm=raw.get("lstm"),
            scaler=MinMax(float(scaler[0]), float(scaler[1])) if scaler else None,
            weights=_weights_from_json(raw["weights"]),
            rel_halfwidth=np.asarray(raw["rel_halfwidth"], dtype=np.float64),
            scale=float(raw["scale"]),
            backtest=dict(raw.get("backtest", {})),
            last_t=np.asarray(raw["last_t"], dtype=np.float64),
            last_y=np.asarray(raw["last_y"], dtype=np.float64),
            gated={str(k): float(v) for k, v in raw.get("gated", {}).items() if k in COMPONENTS},
        )


@dataclass
class SignalPool:
    """Per-signal fallback for entities the model has never seen.

    Attributes:
        arima: element-wise median of the signal's ARIMA fits.
        lstms: LSTM keys whose outputs are averaged (the pooled LSTM, or every
            per-series LSTM of the signal), each run with MinMax from the request.
        weights: mean of the signal's ensemble weights (Prophet has none: a fitted
            curve belongs to one entity).
        rel_halfwidth: median of the signal's relative half-widths.
        backtest: the signal's mean backtest figures.
    """

    signal: str
    step: float
    arima: ArimaState | None
    lstms: list[str]
    weights: dict[str, np.ndarray]
    rel_halfwidth: np.ndarray
    backtest: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "signal": self.signal,
            "step": self.step,
            "arima": self.arima.to_dict() if self.arima else None,
            "lstms": self.lstms,
            "weights": _weights_to_json(self.weights),
            "rel_halfwidth": [float(x) for x in self.rel_halfwidth],
            "backtest": self.backtest,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SignalPool:
        """Inverse of :meth:`to_dict`."""
        return cls(
            signal=str(raw["signal"]),
            step=float(raw["step"]),
            arima=ArimaState.from_dict(raw["arima"]) if raw.get("arima") else None,
            lstms=[str(k) for k in raw.get("lstms", [])],
            weights=_weights_from_json(raw["weights"]),
            rel_halfwidth=np.asarray(raw["rel_halfwidth"], dtype=np.float64),
            backtest=dict(raw.get("backtest", {})),
        )


@dataclass
class ForecastState:
    """All series, pools and LSTM networks of one trained model."""

    series: dict[tuple[str, str], SeriesModel]
    pools: dict[str, SignalPool]
    lstms: dict[str, NumpyLSTM]

    def save(self, folder: Path, config: dict[str, Any]) -> None:
        """Write forecast.json and lstm.npz into ``folder``."""
        body = {
            "format": FORMAT,
            "config": config,
            "series": [s.to_dict() for s in self.series.values()],
            "pools": [p.to_dict() for p in self.pools.values()],
            "lstms": sorted(self.lstms),
        }
        (folder / STATE_FILE).write_text(json.dumps(body), encoding="utf-8")
        arrays: dict[str, Any] = {}  # np.savez(**arrays): a name could be one of its keywords
        for i, key in enumerate(sorted(self.lstms)):
            arrays.update(self.lstms[key].to_arrays(prefix=f"m{i}__"))
        with (folder / LSTM_FILE).open("wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, folder: Path) -> tuple[ForecastState, dict[str, Any]]:
        """Read what :meth:`save` wrote; returns the state and the stored config.

        Raises:
            ArtifactError: a file is missing or not in the expected format.
        """
        try:
            body = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
            if body.get("format") != FORMAT:
                raise ArtifactError(f"{folder / STATE_FILE}: format {body.get('format')!r}, expected {FORMAT}")
            series = [SeriesModel.from_dict(s) for s in body["series"]]
            pools = [SignalPool.from_dict(p) for p in body["pools"]]
            lstms: dict[str, NumpyLSTM] = {}
            if body["lstms"]:
                with np.load(folder / LSTM_FILE, allow_pickle=False) as npz:
                    for i, key in enumerate(body["lstms"]):
                        lstms[key] = NumpyLSTM.from_arrays(npz, prefix=f"m{i}__")
        except ArtifactError:
            raise
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{folder}: unreadable resource-forecast state: {exc!r}") from None
        state = cls({(s.entity, s.signal): s for s in series}, {p.signal: p for p in pools}, lstms)
        return state, dict(body["config"])
