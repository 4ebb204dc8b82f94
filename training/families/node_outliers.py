"""Train node-outliers: one scaler + IsolationForest per cluster on lookback means.

The clusters are independent fits: they go through the run's executor (local
processes or Ray), each seeded from the config, so every backend gives the same forests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

from metrics_ai.drift import REFERENCE_FILE, build_reference
from metrics_ai.drift_features import outlier_samples
from metrics_ai.errors import TrainingError
from metrics_ai.families.node_outliers import (
    FAMILY,
    FEATURE_SIGNALS,
    FEATURES,
    MIN_PEERS,
    ClusterModel,
    NodeOutlierConfig,
    NodeOutlierPredictor,
    too_few_peers,
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


def fit_cluster(job: tuple[np.ndarray, NodeOutlierConfig]) -> ClusterModel:
    """One cluster's scaler and forest on its nodes' feature means (picklable for a worker)."""
    x, cfg = job
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    forest = IsolationForest(
        n_estimators=cfg.n_estimators, contamination=cfg.contamination, random_state=cfg.random_state
    ).fit((x - scaler.mean_) / scale)
    return ClusterModel(scaler.mean_, scale, CompiledForest.from_sklearn(forest))


class NodeOutlierTrainer(Trainer):
    """Clusters with fewer than three nodes and standalone nodes are skipped, with a reason."""

    family = FAMILY

    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Fit per cluster; record which nodes each cluster's model flags."""
        cfg = FAMILY.config_from(self.settings)
        means = node_means(frame, cfg.lookback_hours)
        clusters: dict[str, ClusterModel] = {}
        reference: dict[str, dict[str, list[float]]] = {}
        skipped: dict[str, str] = {}
        flagged: dict[str, list[str]] = {}
        peers: dict[str, tuple[list[str], np.ndarray]] = {}
        for cluster, group in means.groupby("cluster", observed=True, sort=True):
            cluster = str(cluster)
            if not cluster:
                for node in group["node"]:
                    skipped[str(node)] = "standalone node: no peers to compare with"
            elif len(group) < MIN_PEERS:
                skipped[cluster] = too_few_peers(len(group))
            else:
                peers[cluster] = ([str(n) for n in group["node"]], group[list(FEATURES)].to_numpy(dtype=np.float64))
        jobs = [(cluster, (x, cfg)) for cluster, (_, x) in peers.items()]
        results = self.executor.map(fit_cluster, jobs, "node-outliers clusters", progress)
        fitted_x, fitted_scores = [], []
        for cluster, (nodes, x) in peers.items():
            result = results[cluster]
            if result.value is None:
                skipped[cluster] = f"fit failed: {result.error}"
                continue
            model = result.value
            scores, flags = model.score(x)
            fitted_x.append(x)
            fitted_scores.append(scores)
            clusters[cluster] = model
            reference[cluster] = {n: row.tolist() for n, row in zip(nodes, x, strict=True)}
            flagged[cluster] = [n for n, f in zip(nodes, flags, strict=True) if f]
        if not clusters:
            raise TrainingError(f"node-outliers: no cluster with {MIN_PEERS}+ nodes ({skipped})")
        reference_of = build_reference(outlier_samples(np.vstack(fitted_x), np.concatenate(fitted_scores)))
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
            extra_files={REFERENCE_FILE: reference_of.write},
        )
