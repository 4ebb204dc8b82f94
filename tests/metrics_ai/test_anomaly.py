"""anomaly-detector predictor: save/load parity, input forms, explanations, V2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import InvalidInputError
from metrics_ai.families.anomaly import AnomalyPredictor
from tests.serving.codec_calls import smoke, v1, v2


@pytest.fixture(scope="module")
def predictor(basic_models: Path) -> AnomalyPredictor:
    manifest, folder = ModelStore(basic_models, "anomaly-detector").verify()
    return AnomalyPredictor.load(folder, manifest)


def test_save_load_gives_same_predictions(predictor: AnomalyPredictor, tmp_path: Path, basic_models: Path) -> None:
    rows = np.random.default_rng(3).uniform([0.1, 0.3, 0, 50, 40], [0.9, 0.9, 2, 300, 200], size=(50, 5)).tolist()
    predictor.save(tmp_path)
    again = AnomalyPredictor.load(tmp_path, ModelStore(basic_models, "anomaly-detector").current())
    assert v1(again, rows) == v1(predictor, rows)


def test_manifest_records_detection_quality(basic_models: Path) -> None:
    metrics = ModelStore(basic_models, "anomaly-detector").current().metrics
    assert {"precision", "recall", "f1", "test_anomalies"} <= set(metrics)
    assert metrics["test_anomalies"] > 0 and 0 <= metrics["f1"] <= 1


def test_spiked_metric_is_named_first(predictor: AnomalyPredictor) -> None:
    normal = smoke(predictor)[0]
    spiked = list(normal)
    spiked[3] = normal[3] * 20  # network_in
    out = v1(predictor, [normal] * 10 + [spiked])
    assert out[-1]["top_metrics"][0] == "network_in"
    assert out[-1]["score"] > out[0]["score"]


def test_single_row_uses_expanding_statistics(predictor: AnomalyPredictor) -> None:
    row = smoke(predictor)[0]
    [one] = v1(predictor, [row])
    assert set(one) == {"label", "is_anomaly", "score", "top_metrics"}


def test_v2_matches_v1(predictor: AnomalyPredictor) -> None:
    rows = np.asarray(smoke(predictor) * 3, dtype=np.float32)
    answer = v2(predictor, {"metrics": rows})
    v1_answer = v1(predictor, rows.astype(float).tolist())
    assert answer["label"].dtype == np.int32 and answer["score"].dtype == np.float32
    assert answer["label"].tolist() == [p["label"] for p in v1_answer]


@pytest.mark.parametrize(
    ("inputs", "field"),
    [({"metrics": np.zeros((2, 4), np.float32)}, "metrics"), ({"metrics": np.full((1, 5), np.nan)}, "metrics[0][0]")],
)
def test_v2_errors(predictor: AnomalyPredictor, inputs, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        v2(predictor, inputs)
    assert err.value.field == field


def plain_top_metrics(names: list[str], per_metric: list[float], flag: bool, top_z: float) -> list[str]:
    """docs/api.md's rule row by row: the metrics at or above top_z, most deviating first; an
    anomaly with none names its most deviating metric, a normal row with none names nothing."""
    ranked = sorted(range(len(names)), key=lambda j: -per_metric[j])  # stable, as argsort(kind="stable")
    hot = [names[j] for j in ranked if per_metric[j] >= top_z]
    return hot or ([names[ranked[0]]] if flag else [])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5, 3.0, 4.0, 9.0]), min_size=5, max_size=5), st.booleans()
        ),
        min_size=1,
        max_size=40,
    )
)
@example([([0.5, 2.5, 1.0, 0.0, 2.5], True), ([0.5, 2.5, 1.0, 0.0, 2.5], False), ([3.0, 9.0, 3.0, 0, 0], False)])
def test_top_metrics_follow_the_rule_row_by_row(
    predictor: AnomalyPredictor, rows: list[tuple[list[float], bool]]
) -> None:
    """Few distinct values, so ties and every hot/flag combination occur."""
    per_metric = np.asarray([r for r, _ in rows], dtype=np.float64)
    flags = np.asarray([f for _, f in rows])
    names, top_z = list(predictor.config.metrics), predictor.config.top_z
    expected = [plain_top_metrics(names, r, f, top_z) for r, f in rows]
    assert predictor.top_metrics(per_metric, flags, lookup_from=0) == expected  # looked up
    assert predictor.top_metrics(per_metric, flags, lookup_from=10**9) == expected  # row by row
