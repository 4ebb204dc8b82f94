"""anomaly-detector predictor: save/load parity, input forms, explanations, V2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import InvalidInputError
from metrics_ai.families.anomaly import AnomalyPredictor


@pytest.fixture(scope="module")
def predictor(basic_models: Path) -> AnomalyPredictor:
    manifest, folder = ModelStore(basic_models, "anomaly-detector").verify()
    return AnomalyPredictor.load(folder, manifest)


def test_save_load_gives_same_predictions(predictor: AnomalyPredictor, tmp_path: Path, basic_models: Path) -> None:
    rows = np.random.default_rng(3).uniform([0.1, 0.3, 0, 50, 40], [0.9, 0.9, 2, 300, 200], size=(50, 5)).tolist()
    predictor.save(tmp_path)
    again = AnomalyPredictor.load(tmp_path, ModelStore(basic_models, "anomaly-detector").current())
    assert again.predict_v1(rows) == predictor.predict_v1(rows)


def test_manifest_records_detection_quality(basic_models: Path) -> None:
    metrics = ModelStore(basic_models, "anomaly-detector").current().metrics
    assert {"precision", "recall", "f1", "test_anomalies"} <= set(metrics)
    assert metrics["test_anomalies"] > 0 and 0 <= metrics["f1"] <= 1


def test_spiked_metric_is_named_first(predictor: AnomalyPredictor) -> None:
    normal = predictor.smoke_instances()[0]
    spiked = list(normal)
    spiked[3] = normal[3] * 20  # network_in
    out = predictor.predict_v1([normal] * 10 + [spiked])
    assert out[-1]["top_metrics"][0] == "network_in"
    assert out[-1]["score"] > out[0]["score"]


def test_single_row_uses_expanding_statistics(predictor: AnomalyPredictor) -> None:
    row = predictor.smoke_instances()[0]
    [one] = predictor.predict_v1([row])
    assert set(one) == {"label", "is_anomaly", "score", "top_metrics"}


def test_v2_matches_v1(predictor: AnomalyPredictor) -> None:
    rows = np.asarray(predictor.smoke_instances() * 3, dtype=np.float32)
    v2 = predictor.infer_v2({"metrics": rows})
    v1 = predictor.predict_v1(rows.astype(float).tolist())
    assert v2["label"].dtype == np.int32 and v2["score"].dtype == np.float32
    assert v2["label"].tolist() == [p["label"] for p in v1]


@pytest.mark.parametrize(
    ("inputs", "field"),
    [({"metrics": np.zeros((2, 4), np.float32)}, "metrics"), ({"metrics": np.full((1, 5), np.nan)}, "metrics[0][0]")],
)
def test_v2_errors(predictor: AnomalyPredictor, inputs, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        predictor.infer_v2(inputs)
    assert err.value.field == field
