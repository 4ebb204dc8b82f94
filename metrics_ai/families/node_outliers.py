"""node-outliers: which nodes of a cluster behave unlike their peers.

One StandardScaler + IsolationForest per cluster (original system), fitted on each
node's means of host cpu, host memory, pod cpu and pod memory over LOOKBACK_HOURS.
A cluster the model has never seen is compared with its own peers when the request
brings three or more of its nodes (``"model": "ad-hoc"``): a robust z-score across
the peers (median / MAD), so nothing is fitted on the request path.

Why three peers, not the original's two: with two nodes each is exactly as unlike the
other. An IsolationForest fitted on two points isolates every input at the same depth
(every score 0.5, nothing ever flagged, whatever the values), and the robust z of two
peers is the same for both; a two-node "model" would answer the same for any data.
Training skips such a cluster and the predictor refuses it (400), saying so
(:data:`TWO_PEERS`; tests/metrics_ai/test_node_outliers_peers.py pins the behaviour).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from metrics_ai.artifacts import Manifest
from metrics_ai.families.base import DomainPredictor, Family, FamilyConfig, TensorSpec
from metrics_ai.families.models import (
    BoolColumn,
    DomainResponse,
    FloatColumn,
    FloatRows,
    RowError,
    RowLayout,
    RowsRequest,
    Text,
)
from metrics_ai.forest import CompiledForest
from metrics_ai.settings import Settings
from metrics_ai.state_format import StateFormat, unchanged

FEATURES: tuple[str, ...] = ("host_cpu", "host_mem", "pod_cpu", "pod_mem")
#: feature -> canonical signal
FEATURE_SIGNALS: dict[str, str] = {"host_cpu": "cpu", "host_mem": "memory", "pod_cpu": "pod_cpu", "pod_mem": "pod_mem"}
MIN_PEERS = 3
TWO_PEERS = (
    "with two nodes each is exactly as unlike the other (a forest on two points scores every "
    "input 0.5, a robust z of two peers is symmetric), so neither could ever be flagged"
)
"""Why two nodes are not enough, appended to the skip reason and the 400."""


def too_few_peers(nodes: int) -> str:
    """What a cluster of ``nodes`` nodes lacks, with the two-node reason when it applies."""
    text = f"{nodes} node(s); needs at least {MIN_PEERS} to compare peers"
    return f"{text}: {TWO_PEERS}" if nodes == 2 else text


#: ``clusters.json``: 2 records its format; 1 (no ``format``) is the same layout
STATE_FORMAT = StateFormat("clusters.json", version=2, upgrades={1: unchanged})


class NodeOutlierConfig(FamilyConfig):
    """Hyper-parameters of the original system."""

    contamination: float = Field(0.12, gt=0, le=0.5)
    lookback_hours: int = Field(24, ge=1)
    n_estimators: int = Field(100, ge=1)
    random_state: int = 42
    adhoc_z: float = Field(3.5, gt=0)
    """Ad-hoc peers: a node is an outlier when a feature's robust z exceeds this."""


class ClusterModel:
    """Scaler and compiled forest of one cluster."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, forest: CompiledForest) -> None:
        self.mean, self.scale, self.forest = mean, scale, forest

    def score(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores in (0, 1] and outlier flags for raw feature rows."""
        scores = self.forest.score((x - self.mean) / self.scale)
        return scores, self.forest.is_anomaly(scores)


def adhoc_scores(x: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Peer comparison without a model: max robust z across features, squashed to [0, 1)."""
    median = np.median(x, axis=0)
    deviation = np.abs(x - median)
    mad = np.median(deviation, axis=0) * 1.4826
    # Identical peers give MAD 0: fall back to the mean absolute deviation (x 1.2533, normal-consistent).
    spread = np.where(mad > 1e-12, mad, np.maximum(deviation.mean(axis=0) * 1.2533, 1e-9))
    z = (np.abs(x - median) / spread).max(axis=1)
    return z / (z + threshold), z > threshold


class NodeOutlierRequest(RowsRequest):
    """Nodes to compare: ``cluster`` and ``node`` per row, ``features`` float64 ``[N, 4]``."""

    layout: ClassVar[RowLayout] = RowLayout(text=("cluster", "node"), matrix="features", columns=FEATURES)
    features: FloatRows
    cluster: list[Text]
    node: list[Text]


class NodeOutlierResponse(DomainResponse):
    """Per node: its ``cluster`` and ``node``, ``is_outlier``, ``score`` and which ``model`` answered."""

    v2_outputs: ClassVar[dict[str, TensorSpec]] = {
        "is_outlier": TensorSpec("BOOL", (-1,)),
        "score": TensorSpec("FP32", (-1,)),
    }
    cluster: list[str]
    node: list[str]
    is_outlier: BoolColumn
    score: FloatColumn
    model: list[str]

    def positives(self) -> np.ndarray:
        """A node flagged as unlike its peers raises an alarm."""
        return self.is_outlier


class NodeOutlierPredictor(DomainPredictor[NodeOutlierRequest, NodeOutlierResponse]):
    """Per-cluster models, plus ad-hoc peer scoring for unknown clusters."""

    request: ClassVar[type[RowsRequest]] = NodeOutlierRequest

    def __init__(self, config: NodeOutlierConfig, clusters: dict[str, ClusterModel], reference: dict[str, Any]) -> None:
        self.config = config
        self.clusters = clusters
        self.reference = reference  # cluster -> {node: [means]} seen at training

    def score(self, clusters: list[str], nodes: list[str], x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Scores, flags and which model answered, per row."""
        n = len(clusters)
        scores, flags, used = np.zeros(n), np.zeros(n, dtype=bool), [""] * n
        groups: dict[str, list[int]] = {}
        for i, c in enumerate(clusters):
            groups.setdefault(c, []).append(i)
        for cluster, idx in groups.items():
            rows = x[idx]
            model = self.clusters.get(cluster)
            if model is not None:
                s, f = model.score(rows)
                label = "cluster"
            elif len(set(nodes[i] for i in idx)) >= MIN_PEERS:
                s, f = adhoc_scores(rows, self.config.adhoc_z)
                label = "ad-hoc"
            else:
                peers = len(set(nodes[i] for i in idx))
                raise RowError(
                    ("cluster", idx[0]),
                    f"cluster {cluster!r} is unknown to this model and the request has {too_few_peers(peers)}",
                )
            scores[idx], flags[idx] = s, f
            for i in idx:
                used[i] = label
        return scores, flags, used

    def predict(self, request: NodeOutlierRequest) -> NodeOutlierResponse:
        """Score each node against its cluster's model, or against its peers in the request."""
        scores, flags, used = self.score(request.cluster, request.node, request.features)
        return NodeOutlierResponse(
            cluster=request.cluster, node=request.node, is_outlier=flags, score=scores, model=used
        )

    def smoke_request(self) -> NodeOutlierRequest:
        """The training means of the first known cluster."""
        cluster, nodes = next(iter(self.reference.items()))
        return NodeOutlierRequest(
            columns=FEATURES,
            features=np.asarray(list(nodes.values()), dtype=np.float64),
            cluster=[cluster] * len(nodes),
            node=list(nodes),
        )

    def save(self, folder: Path) -> None:
        """One forest .npz per cluster plus scalers and reference means in JSON."""
        index = {}
        for i, (cluster, model) in enumerate(sorted(self.clusters.items())):
            model.forest.save(folder / f"forest-{i}.npz")
            index[cluster] = {"file": f"forest-{i}.npz", "mean": model.mean.tolist(), "scale": model.scale.tolist()}
        state = {"config": self.config.model_dump(mode="json"), "clusters": index, "reference": self.reference}
        STATE_FORMAT.write(folder, state)

    @classmethod
    def load(cls, folder: Path, manifest: Manifest) -> NodeOutlierPredictor:
        """Read what :meth:`save` wrote."""
        state = STATE_FORMAT.read(folder)
        clusters = {
            name: ClusterModel(np.asarray(c["mean"]), np.asarray(c["scale"]), CompiledForest.load(folder / c["file"]))
            for name, c in state["clusters"].items()
        }
        return cls(NodeOutlierConfig.model_validate(state["config"]), clusters, state["reference"])


def config_from(settings: Settings) -> NodeOutlierConfig:
    """A training run's hyper-parameters."""
    return NodeOutlierConfig(
        contamination=settings.contamination,
        lookback_hours=settings.lookback_hours,
        random_state=settings.seed,
    )


FAMILY: Family[NodeOutlierConfig] = Family(
    name="node-outliers",
    module="node_outliers",
    config=NodeOutlierConfig,
    predictor=NodeOutlierPredictor,
    signals=tuple(FEATURE_SIGNALS.values()),
    config_from=config_from,
    request=NodeOutlierRequest,
    response=NodeOutlierResponse,
)
