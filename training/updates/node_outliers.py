"""node-outliers update: the full fit, on the latest window (it reads the last LOOKBACK_HOURS only).

The full fit compares each node's means over the last LOOKBACK_HOURS (24) with its
peers: an update that reads at least that much data *is* a full fit, and costs
milliseconds per cluster. Clusters absent from the window keep their current model; a
window no cluster can be fitted from keeps the current version as it is.
"""

from __future__ import annotations

import pandas as pd

from metrics_ai.errors import TrainingError
from metrics_ai.families.base import Predictor
from metrics_ai.families.node_outliers import FAMILY, NodeOutlierPredictor
from training.families.base import Progress, no_progress
from training.families.node_outliers import NodeOutlierTrainer
from training.updates.base import UpdateOutcome, Updater, split_sets


class NodeOutlierUpdater(Updater):
    """Refit every cluster the window has; carry the others over."""

    family = FAMILY

    def update(self, current: Predictor, frame: pd.DataFrame, progress: Progress = no_progress) -> UpdateOutcome:
        """Full fit on the window, then the current version's clusters the window lacks."""
        assert isinstance(current, NodeOutlierPredictor)
        try:
            outcome = NodeOutlierTrainer(self.settings, self._executor).fit(frame, progress)
        except TrainingError as exc:  # e.g. no cluster with enough nodes in a partial window
            return UpdateOutcome(None, note=f"kept: {exc.message}")
        fresh = outcome.predictor
        assert isinstance(fresh, NodeOutlierPredictor)
        updated, new, stale = split_sets(set(current.clusters), set(fresh.clusters))
        for cluster in stale:
            fresh.clusters[cluster] = current.clusters[cluster]
            fresh.reference[cluster] = current.reference[cluster]
        outcome.entities = sorted(fresh.clusters)
        return UpdateOutcome(
            outcome,
            updated=updated,
            new=new,
            kept_stale=stale,
            note="refit: the full fit reads only the last LOOKBACK_HOURS, so the update is a full fit",
        )
