"""The anomaly-detector's figure on unlabelled data: labelled anomalies injected into the hold-out.

Data from Prometheus carries no labels, so a held-out F1 there is 0 whatever the model
does. Instead each entity's held-out tail gets labelled anomalies injected at
ANOMALY_RATE by the same injection the synthetic generator and the hybrid source use
(:func:`training.sources.synthetic.inject_anomalies`), its rolling features are
recomputed (the training part unchanged before it) and the fitted detector is scored on
them: precision, recall and F1 against the injected labels measure what it catches on
the real behaviour of these nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from metrics_ai.features import FeatureSpec, rolling_features
from training.sources.synthetic import inject_anomalies


def injected_figures(
    series: Sequence[np.ndarray],
    cuts: Sequence[int],
    signals: Sequence[str],
    spec: FeatureSpec,
    detect: Callable[[np.ndarray], np.ndarray],
    rate: float,
    interval: int,
    seed: int,
) -> dict[str, float | int] | None:
    """Precision, recall and F1 of ``detect`` on anomalies injected into each series' tail.

    Args:
        series: per entity, raw metric values [T, len(signals)] at ``interval`` s.
        cuts: per entity, where its held-out tail starts.
        signals: the column names (the injection's signal names).
        spec: the rolling-feature spec the detector was trained on.
        detect: feature rows [N, F] -> is-anomaly booleans [N].
        rate: share of tail samples to make anomalous (ANOMALY_RATE); 0 gives None.
        interval: sample interval in seconds.
        seed: makes the injection reproducible.

    Returns:
        ``precision``, ``recall``, ``f1``, ``rate``, ``rows``, ``anomalies``, or None when
        nothing could be injected (rate 0 or no tail).
    """
    if rate <= 0:
        return None
    rows, labels = [], []
    for i, (values, cut) in enumerate(zip(series, cuts, strict=True)):
        if cut >= len(values):
            continue
        tail = {name: values[cut:, j].astype(np.float64, copy=True) for j, name in enumerate(signals)}
        labels.append(inject_anomalies(tail, rate, interval, np.random.default_rng([seed, 4241, i])))
        injected = np.array(values, dtype=np.float64, copy=True)
        for j, name in enumerate(signals):
            injected[cut:, j] = tail[name]
        rows.append(rolling_features(injected, spec)[cut:])
    if not rows:
        return None
    y = np.concatenate(labels)
    if not y.any():
        return None
    predicted = detect(np.vstack(rows))
    precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, average="binary", zero_division=0)
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "rate": float(rate),
        "rows": int(len(y)),
        "anomalies": int(y.sum()),
    }
