"""Train node-outliers: one scaler + IsolationForest per cluster on lookback means."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

from metrics_ai.errors import TrainingError
from metrics_ai.families.node_outliers import (
    FEATURE_SIGNALS,
    FEATURES,
    MIN_PEERS,
    ClusterModel,
    NodeOutlierConfig,
    NodeOutlierPredictor,
)
from metrics_ai.forest import CompiledForest
from training.families.base import Progress, Trainer, TrainOutcome, no_progress


def node_means(frame: pd.DataFrame, lookback_hours: int) -> pd.DataFrame:
    """Rows (cluster, node) x FEATURES: each node's means over its last lookback hours."""
    sub = frame[frame["signal"].isin(list(FEATURE_SIGNALS.values()))]
    if sub.empty:
        return pd.DataFrame(columns=["cluster", "node", *FEATURES])
    start = sub["timestamp"].max() - pd.Timedelta(hours=lookback_hours)
    recent = sub[sub["timestamp"] > start]
    means = recent.pivot_table(
        index=["cluster", "node"], columns="signal", values="value", aggfunc="mean", observed=True
    )
    means = means.rename(columns={v: k for k, v in FEATURE_SIGNALS.items()})
    return means.reindex(columns=list(FEATURES)).dropna().reset_index()


class NodeOutlierTrainer(Trainer):
    """Clusters with fewer than three nodes and standalone nodes are skipped, with a reason."""

    model_name: ClassVar[str] = "node-outliers"
    signals: ClassVar[tuple[str, ...]] = tuple(FEATURE_SIGNALS.values())

    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Fit per cluster; record which nodes each cluster's model flags."""
        cfg = NodeOutlierConfig(
            contamination=self.settings.contamination,
            lookback_hours=self.settings.lookback_hours,
            random_state=self.settings.seed,
        )
        means = node_means(frame, cfg.lookback_hours)
        clusters: dict[str, ClusterModel] = {}
        reference: dict[str, dict[str, list[float]]] = {}
        skipped: dict[str, str] = {}
        flagged: dict[str, list[str]] = {}
        groups = list(means.groupby("cluster", observed=True, sort=True))
        for cluster, group in groups:
            cluster = str(cluster)
            progress(1, len(groups), "node-outliers clusters")
            if not cluster:
                for node in group["node"]:
                    skipped[str(node)] = "standalone node: no peers to compare with"
                continue
            if len(group) < MIN_PEERS:
                skipped[cluster] = f"{len(group)} node(s); needs at least {MIN_PEERS} to compare peers"
                continue
            x = group[list(FEATURES)].to_numpy(dtype=np.float64)
            scaler = StandardScaler().fit(x)
            scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
            forest = IsolationForest(
                n_estimators=cfg.n_estimators, contamination=cfg.contamination, random_state=cfg.random_state
            ).fit((x - scaler.mean_) / scale)
            model = ClusterModel(scaler.mean_, scale, CompiledForest.from_sklearn(forest))
            _, flags = model.score(x)
            clusters[cluster] = model
            reference[cluster] = {str(n): row.tolist() for n, row in zip(group["node"], x, strict=True)}
            flagged[cluster] = [str(n) for n, f in zip(group["node"], flags, strict=True) if f]
        if not clusters:
            raise TrainingError(f"node-outliers: no cluster with {MIN_PEERS}+ nodes ({skipped})")
        metrics = {
            "clusters": len(clusters),
            "nodes": int(sum(len(r) for r in reference.values())),
            "flagged": flagged,
            "outlier_rate": float(sum(map(len, flagged.values())) / sum(len(r) for r in reference.values())),
        }
        return TrainOutcome(
            predictor=NodeOutlierPredictor(cfg, clusters, reference),
            config=cfg,
            metrics=metrics,
            entities=sorted(clusters),
            skipped=skipped,
        )
