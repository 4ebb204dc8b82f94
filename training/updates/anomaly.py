"""anomaly-detector update: keep the current version (a deliberate no-op).

The detector is one IsolationForest over every node's rolling features, a picture of
*normal* behaviour across a whole week (weekday peaks and quiet weekends). A refit on
the last UPDATE_DAYS would forget whichever part of the week the window misses and
raise false alarms when it comes round again; it holds no per-entity state, so nodes
that appeared since the full retrain are already scored by it. Its full fit is cheap
(seconds), so the weekly retrain is where it is refreshed.
"""

from __future__ import annotations

import pandas as pd

from metrics_ai.families.anomaly import FAMILY
from metrics_ai.families.base import Predictor
from training.families.base import Progress, no_progress
from training.updates.base import UpdateOutcome, Updater

NOTE = (
    "kept: one IsolationForest over a week of normal behaviour; a refit on the update window "
    "would forget the rest of the week (the weekly full retrain refreshes it)"
)


class AnomalyUpdater(Updater):
    """Publishes nothing; reports why."""

    family = FAMILY

    def update(self, current: Predictor, frame: pd.DataFrame, progress: Progress = no_progress) -> UpdateOutcome:
        """Nothing to refit (see the module docstring)."""
        progress(1, 1, "anomaly-detector kept")
        return UpdateOutcome(None, note=NOTE)
