"""resource-forecast's hyper-parameters, its signals, and how a training run's settings map onto them."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from metrics_ai.families.base import FamilyConfig
from metrics_ai.families.forecast.components import NAMES, check_components
from metrics_ai.resolution import horizon_points
from metrics_ai.settings import Settings

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
    components: tuple[str, ...] = NAMES
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

    @field_validator("components", mode="before")
    @classmethod
    def _components(cls, value: Any) -> tuple[str, ...]:
        return check_components(value)

    @property
    def horizon(self) -> int:
        """Horizon points at STEP."""
        return self.horizon_at(self.step)

    def horizon_at(self, step: float) -> int:
        """Horizon points at ``step`` seconds (15 minutes at 300 s: 3)."""
        return horizon_points(self.horizon_min, step)


#: every signal resource-forecast serves
SIGNALS: tuple[str, ...] = (*CLUSTER_SIGNALS, *NODE_SIGNALS)


def config_from(settings: Settings) -> ForecastConfig:
    """A training run's hyper-parameters (the family's settings mapping)."""
    return ForecastConfig(
        horizon_min=settings.horizon_min,
        step=settings.step,
        components=settings.components,
        weighting=settings.ensemble_weighting.value,
        seq_len=settings.lstm_seq_len,
        lstm_epochs=settings.lstm_epochs,
        deviation_rule=settings.deviation_rule.value,
        crisis_thresholds=settings.crisis_thresholds,
    )
