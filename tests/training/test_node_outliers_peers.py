"""node-outliers needs three peers: two nodes give an answer that cannot depend on the data (issue 15 item 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics_ai.errors import InvalidInputError, TrainingError
from metrics_ai.families.node_outliers import (
    FEATURE_SIGNALS,
    MIN_PEERS,
    TWO_PEERS,
    NodeOutlierConfig,
    NodeOutlierPredictor,
)
from metrics_ai.settings import Settings
from training.executor import LocalExecutor
from training.families.node_outliers import NodeOutlierTrainer, fit_cluster

BASE = np.array([0.3, 0.5, 0.25, 0.4])


def test_two_nodes_score_every_input_the_same_so_min_peers_stays_three() -> None:
    """The evidence for MIN_PEERS 3: a forest on two very different nodes cannot tell anything apart."""
    assert MIN_PEERS == 3
    two = fit_cluster((np.stack([BASE, BASE + 0.5]), NodeOutlierConfig()))
    probes = np.stack([BASE, BASE + 0.5, BASE + 0.25, np.full(4, 50.0)])
    scores, flags = two.score(probes)
    assert np.allclose(scores, scores[0]) and not flags.any(), "two points: every input scores alike"
    three = fit_cluster((np.stack([BASE, BASE + 0.01, BASE + 0.5]), NodeOutlierConfig()))
    scores, flags = three.score(np.stack([BASE, BASE + 0.01, BASE + 0.5]))
    assert flags.tolist() == [False, False, True] and scores[2] > scores[:2].max()


def _frame(nodes: dict[str, str]) -> pd.DataFrame:
    stamps = pd.date_range(end=pd.Timestamp("2026-11-20", tz="UTC"), periods=12, freq="300s")
    rows = [
        {"timestamp": t, "signal": signal, "value": 0.3 + 0.01 * i, "cluster": cluster, "node": node, "mountpoint": ""}
        for i, (node, cluster) in enumerate(nodes.items())
        for signal in FEATURE_SIGNALS.values()
        for t in stamps
    ]
    return pd.DataFrame(rows)


def test_training_skips_a_two_node_cluster_saying_why() -> None:
    nodes = {"a-0": "pair", "a-1": "pair", "b-0": "trio", "b-1": "trio", "b-2": "trio"}
    trainer = NodeOutlierTrainer(Settings(), LocalExecutor(1))
    outcome = trainer.fit(_frame(nodes))
    assert outcome.entities == ["trio"]
    assert TWO_PEERS in outcome.skipped["pair"]
    with pytest.raises(TrainingError, match="two nodes each is exactly as unlike"):
        trainer.fit(_frame({"a-0": "pair", "a-1": "pair"}))


def test_unknown_cluster_with_two_nodes_is_a_400_saying_why() -> None:
    outcome = NodeOutlierTrainer(Settings(), LocalExecutor(1)).fit(_frame({"n0": "c", "n1": "c", "n2": "c"}))
    predictor = outcome.predictor
    assert isinstance(predictor, NodeOutlierPredictor)
    rows = np.stack([BASE, BASE + 0.5])
    with pytest.raises(InvalidInputError) as caught:
        predictor.score(["new", "new"], ["x", "y"], rows)
    assert caught.value.field == "cluster.0" and TWO_PEERS in str(caught.value)  # V1: instances[0].cluster
    _, _, used = predictor.score(["new"] * 3, ["x", "y", "z"], np.stack([BASE, BASE, BASE + 0.5]))
    assert used == ["ad-hoc"] * 3
