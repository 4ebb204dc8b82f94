"""anomaly-detector: IsolationForest over the decision record's rolling features.

Rows are consecutive samples of one entity (default metrics ``cpu_usage,
memory_usage, pod_restarts, network_in, network_out``); the predictor computes the
rolling and lag features itself with :func:`metrics_ai.features.rolling_features`,
the same function training used. ``top_metrics`` ranks the metrics by how far
their features sit from the training distribution (largest robust z-score first).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import Field

from metrics_ai.artifacts import Manifest
from metrics_ai.families.base import DomainPredictor, Family, FamilyConfig, TensorSpec
from metrics_ai.families.models import (
    BoolColumn,
    DomainResponse,
    FloatColumn,
    FloatRows,
    IntColumn,
    RowError,
    RowLayout,
    RowsRequest,
)
from metrics_ai.features import FeatureSpec, rolling_features
from metrics_ai.forest import CompiledForest
from metrics_ai.settings import Settings
from metrics_ai.state_format import StateFormat, unchanged

DEFAULT_METRICS: tuple[str, ...] = ("cpu_usage", "memory_usage", "pod_restarts", "network_in", "network_out")
#: metric name in requests -> signal name in the canonical frame
METRIC_SIGNALS: dict[str, str] = {
    "cpu_usage": "cpu",
    "memory_usage": "memory",
    "pod_restarts": "pod_restarts",
    "network_in": "network_in",
    "network_out": "network_out",
}


#: ``stats.json``: 2 records its format; 1 (no ``format``) is the same layout
STATE_FORMAT = StateFormat("stats.json", version=2, upgrades={1: unchanged})


class AnomalyConfig(FamilyConfig):
    """Hyper-parameters of the decision record."""

    metrics: tuple[str, ...] = DEFAULT_METRICS
    window: int = Field(24, ge=1)
    lags: tuple[int, ...] = (1, 3, 6)
    n_estimators: int = Field(100, ge=1)
    contamination: float = Field(0.03, gt=0, le=0.5)
    random_state: int = 42
    sample_interval: int = Field(300, ge=1)
    top_z: float = Field(3.0, gt=0)
    """A metric is named in ``top_metrics`` when a feature is this many robust SDs out."""

    @property
    def spec(self) -> FeatureSpec:
        """The feature shape."""
        return FeatureSpec(window=self.window, lags=self.lags)


class AnomalyRequest(RowsRequest):
    """Consecutive raw rows of one entity: ``metrics`` float64 ``[N, M]``, columns named by ``columns``."""

    layout: ClassVar[RowLayout] = RowLayout(text=(), matrix="metrics", columns=DEFAULT_METRICS, lists=True)
    metrics: FloatRows


class AnomalyResponse(DomainResponse):
    """Per row: ``label`` (-1 anomalous, 1 normal), ``is_anomaly``, ``score`` and ``top_metrics``."""

    v2_outputs: ClassVar[dict[str, TensorSpec]] = {
        "label": TensorSpec("INT32", (-1,)),
        "score": TensorSpec("FP32", (-1,)),
    }
    label: IntColumn
    is_anomaly: BoolColumn
    score: FloatColumn
    top_metrics: list[list[str]]

    def positives(self) -> np.ndarray:
        """An anomalous row raises an alarm."""
        return self.is_anomaly


class AnomalyPredictor(DomainPredictor[AnomalyRequest, AnomalyResponse]):
    """Scores rows with a compiled forest; explains with per-metric z-scores."""

    aliases: ClassVar[tuple[str, ...]] = ("model.pkl",)
    request: ClassVar[type[RowsRequest]] = AnomalyRequest

    def __init__(self, config: AnomalyConfig, forest: CompiledForest, centre: np.ndarray, scale: np.ndarray) -> None:
        self.config = config
        self.forest = forest
        self.centre = np.asarray(centre, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self._schema = AnomalyRequest.layout._replace(columns=config.metrics)

    # --- domain -----------------------------------------------------------
    def layout(self) -> RowLayout:
        """Rows of this version's metrics, in its config's order."""
        return self._schema

    def predict(self, request: AnomalyRequest) -> AnomalyResponse:
        """Score, flag and explain each row (rows are consecutive samples of one entity)."""
        if request.columns != self.config.metrics:
            raise RowError(("columns",), f"expected {list(self.config.metrics)}, got {list(request.columns)}")
        scores, flags, per_metric = self.score(request.metrics)
        return AnomalyResponse(
            label=np.where(flags, -1, 1),
            is_anomaly=flags,
            score=scores,
            top_metrics=self.top_metrics(per_metric, flags),
        )

    def score(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores, anomaly flags and per-metric z ``[N, M]`` for consecutive raw rows."""
        features = rolling_features(rows, self.config.spec)
        scores = self.forest.score(features)
        z = np.abs(features - self.centre) / self.scale
        per_metric = z.reshape(rows.shape[0], len(self.config.metrics), -1).max(axis=2)
        return scores, self.forest.is_anomaly(scores), per_metric

    def top_metrics(self, per_metric: np.ndarray, flags: np.ndarray, *, lookup_from: int = 64) -> list[list[str]]:
        """Per row, the metrics at or above ``top_z``, most deviating first.

        An anomalous row with none that high names its most deviating metric; a normal
        row with none names nothing. From ``lookup_from`` rows on, the rows' few distinct
        answers (a ranking and a mask of ``M`` metrics) are built once and looked up (10,000
        rows: 2 ms instead of 19); below it, row by row on Python lists (a single row: 6 us).
        """
        names = self.config.metrics
        hot = per_metric >= self.config.top_z
        order = np.argsort(-per_metric, axis=1, kind="stable")
        if len(flags) < lookup_from:  # the k-th ranked metric is named if hot, the first also if anomalous
            return [
                [names[j] for k, j in enumerate(ranks) if row_hot[j] or (k == 0 and flag)]
                for ranks, row_hot, flag in zip(order.tolist(), hot.tolist(), flags.tolist(), strict=True)
            ]
        m = len(names)
        ranked_hot = np.take_along_axis(hot, order, axis=1)
        ranked_hot[:, 0] |= flags  # an anomaly always names its top metric
        weights = np.int64(m) ** np.arange(m, dtype=np.int64)
        code = order.astype(np.int64) @ weights * (1 << m) + ranked_hot.astype(np.int64) @ (1 << np.arange(m))
        code[~ranked_hot.any(axis=1)] = -1  # nothing to name
        unique, inverse = np.unique(code, return_inverse=True)
        table: list[list[str]] = []
        for c in unique.tolist():
            ranks, bits = divmod(c, 1 << m) if c >= 0 else (0, 0)
            table.append([names[(ranks // m**k) % m] for k in range(m) if bits >> k & 1])
        return [table[i] for i in inverse.tolist()]

    def smoke_request(self) -> AnomalyRequest:
        """A short window at the training centre."""
        row = self.centre.reshape(len(self.config.metrics), -1)[:, 0]
        return AnomalyRequest(columns=self.config.metrics, metrics=np.stack([row, row, row]))

    # --- persistence --------------------------------------------------------
    def save(self, folder: Path) -> None:
        """forest.npz (no pickle) + stats.json; model.pkl is written by the trainer."""
        self.forest.save(folder / "forest.npz")
        stats = {
            "config": self.config.model_dump(mode="json"),
            "centre": self.centre.tolist(),
            "scale": self.scale.tolist(),
        }
        STATE_FORMAT.write(folder, stats)

    @classmethod
    def load(cls, folder: Path, manifest: Manifest) -> AnomalyPredictor:
        """Read forest.npz and stats.json (never model.pkl)."""
        stats = STATE_FORMAT.read(folder)
        return cls(
            AnomalyConfig.model_validate(stats["config"]),
            CompiledForest.load(folder / "forest.npz"),
            np.asarray(stats["centre"]),
            np.asarray(stats["scale"]),
        )


def config_from(settings: Settings) -> AnomalyConfig:
    """A training run's hyper-parameters (contamination is ANOMALY_RATE's default 0.03)."""
    return AnomalyConfig(sample_interval=settings.sample_interval, random_state=settings.seed)


FAMILY: Family[AnomalyConfig] = Family(
    name="anomaly-detector",
    module="anomaly",
    config=AnomalyConfig,
    predictor=AnomalyPredictor,
    signals=tuple(METRIC_SIGNALS.values()),
    config_from=config_from,
    request=AnomalyRequest,
    response=AnomalyResponse,
)
