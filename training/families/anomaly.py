"""Train the anomaly-detector (decision record): IsolationForest on rolling features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import precision_recall_fscore_support

from metrics_ai.drift import REFERENCE_FILE, build_reference
from metrics_ai.drift_features import anomaly_samples
from metrics_ai.errors import TrainingError
from metrics_ai.families.anomaly import FAMILY, METRIC_SIGNALS, AnomalyPredictor
from metrics_ai.features import rolling_features
from metrics_ai.forest import CompiledForest
from training.families.base import Progress, Trainer, TrainOutcome, no_progress
from training.frames import entity_key, wide_by_entity
from training.injected_holdout import injected_figures


def gate_figure(f1: float, labelled: int, injected: dict[str, float | int] | None) -> dict[str, Any]:
    """The quality gate's figure and which one it is (``gate``, ``gate_figure``).

    With labelled anomalies in the hold-out (synthetic, hybrid): 1 - F1 on them. Without
    (Prometheus, files without labels), where that F1 is 0 whatever the model does: 1 - F1
    on the anomalies injected into the hold-out (:mod:`training.injected_holdout`). With
    neither (ANOMALY_RATE 0 on unlabelled data) the labelled figure, 1, is all there is.
    """
    if labelled or injected is None:
        note = "held-out labels" if labelled else "held-out labels (none, nothing injected: ANOMALY_RATE 0)"
        return {"gate": {"one_minus_f1": 1.0 - f1}, "gate_figure": note}
    return {
        "gate": {"one_minus_injected_f1": 1.0 - float(injected["f1"])},
        "gate_figure": f"anomalies injected into the unlabelled hold-out at {float(injected['rate']):g}",
    }


class AnomalyTrainer(Trainer):
    """Per-node timelines of the five metrics, resampled to SAMPLE_INTERVAL.

    One IsolationForest pooled over every entity's feature rows (the decision record's
    model): there are no independent per-series fits to hand to the executor; the
    forest's trees are built in parallel threads instead (``n_jobs=-1``).
    """

    family = FAMILY

    def fit(self, frame: pd.DataFrame, progress: Progress = no_progress) -> TrainOutcome:
        """Features per entity, first TRAIN_FRACTION of each to fit, the tail to score."""
        cfg = FAMILY.config_from(self.settings)
        signals = [METRIC_SIGNALS[m] for m in cfg.metrics]
        wides = wide_by_entity(frame, signals, cfg.sample_interval, labels=("cluster", "node"))
        if not wides:
            raise TrainingError(f"anomaly-detector: no entity has all of {signals}")
        train_x, test_x, test_y, entities, raw, cuts = [], [], [], [], [], []
        for key, wide in wides.items():
            values = wide[signals].to_numpy()
            feats = rolling_features(values, cfg.spec)
            cut = int(len(wide) * self.settings.train_fraction)
            raw.append(values)
            cuts.append(cut)
            train_x.append(feats[:cut])
            test_x.append(feats[cut:])
            test_y.append(wide["anomaly"].to_numpy()[cut:])
            entities.append(entity_key(*key))
            progress(1, len(wides), "anomaly-detector features")
        x_train, x_test, y_test = np.vstack(train_x), np.vstack(test_x), np.concatenate(test_y)
        forest = IsolationForest(
            n_estimators=cfg.n_estimators,
            contamination=cfg.contamination,
            random_state=cfg.random_state,
            n_jobs=-1,
        ).fit(x_train)
        compiled = CompiledForest.from_sklearn(forest)
        predicted = compiled.is_anomaly(compiled.score(x_test))
        train_rows = np.vstack([v[:c] for v, c in zip(raw, cuts, strict=True)])  # what the forest was fitted on
        train_scores = compiled.score(x_train)
        flags = compiled.is_anomaly(train_scores)
        reference = build_reference(anomaly_samples(train_rows, cfg.metrics, train_scores, flags))
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_test, predicted, average="binary", zero_division=0
        )
        injected = injected_figures(
            raw, cuts, signals, cfg.spec, lambda x: compiled.is_anomaly(compiled.score(x)),
            self.settings.anomaly_rate, cfg.sample_interval, self.settings.seed,
        )
        centre = np.median(x_train, axis=0)
        mad = np.median(np.abs(x_train - centre), axis=0) * 1.4826
        scale = np.where(mad > 1e-12, mad, np.maximum(x_train.std(axis=0), 1e-9))
        predictor = AnomalyPredictor(cfg, compiled, centre, scale)
        metrics = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "test_rows": int(len(y_test)),
            "test_anomalies": int(y_test.sum()),
            "alarms": int(predicted.sum()),
            "train_rows": int(len(x_train)),
            "injected": injected,
            **gate_figure(float(f1), int(y_test.sum()), injected),
        }

        def write_pickle(path: Path) -> None:
            joblib.dump({"model": forest, "config": cfg.model_dump(mode="json")}, path)

        return TrainOutcome(
            predictor=predictor,
            config=cfg,
            metrics=metrics,
            entities=entities,
            extra_files={"model.pkl": write_pickle, REFERENCE_FILE: reference.write},
        )
