"""Fitted state of resource-forecast: one :class:`SeriesModel` per (entity, signal),
one :class:`SignalPool` per signal (the fallback for entities never seen), and the
LSTM weights they point at. Stored as ``forecast.json`` + ``lstm.npz`` (no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metrics_ai.arima_numpy import ArimaState
from metrics_ai.errors import ArtifactError
from metrics_ai.families.forecast.components import COMPONENTS, NAMES
from metrics_ai.families.forecast.numeric import MinMax
from metrics_ai.lstm_numpy import NumpyLSTM
from metrics_ai.prophet_numpy import ProphetState
from metrics_ai.state_format import StateFormat

STATE_FILE = "forecast.json"
LSTM_FILE = "lstm.npz"
#: ``forecast.json``'s layout (it has recorded ``format: 1`` since the first release)
STATE_FORMAT = StateFormat(STATE_FILE, version=1)


def _weights_to_json(weights: dict[str, np.ndarray]) -> dict[str, list[float]]:
    return {k: [float(x) for x in v] for k, v in weights.items()}


def _weights_from_json(raw: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in raw.items() if k in NAMES}


@dataclass
class SeriesModel:
    """Everything the predictor needs for one known (entity, signal).

    Attributes:
        labels: how a fetcher finds the series ({"cluster": c} or {"cluster": c, "node": n}).
        step: the series' step in seconds (horizon = horizon_min at this step).
        prophet, anchor: fitted curve and the window (points) of the recent level its
            forecast starts from (:func:`~metrics_ai.families.forecast.components.prophet_forecast_at`).
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
            **{key: value for c in COMPONENTS for key, value in c.to_state(self).items()},
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
        parts: dict[str, Any] = {}
        for c in COMPONENTS:
            parts.update(c.from_state(raw))
        return cls(
            entity=str(raw["entity"]),
            signal=str(raw["signal"]),
            labels={str(k): str(v) for k, v in raw["labels"].items()},
            step=float(raw["step"]),
            **parts,
            weights=_weights_from_json(raw["weights"]),
            rel_halfwidth=np.asarray(raw["rel_halfwidth"], dtype=np.float64),
            scale=float(raw["scale"]),
            backtest=dict(raw.get("backtest", {})),
            last_t=np.asarray(raw["last_t"], dtype=np.float64),
            last_y=np.asarray(raw["last_y"], dtype=np.float64),
            gated={str(k): float(v) for k, v in raw.get("gated", {}).items() if k in NAMES},
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
            "config": config,
            "series": [s.to_dict() for s in self.series.values()],
            "pools": [p.to_dict() for p in self.pools.values()],
            "lstms": sorted(self.lstms),
        }
        STATE_FORMAT.write(folder, body)
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
            body = STATE_FORMAT.read(folder)
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
