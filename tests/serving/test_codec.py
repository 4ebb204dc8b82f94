"""The V1 and V2 codecs on real versions: one convention, one error rule, one source of specs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import InvalidInputError
from metrics_ai.families import FAMILIES
from metrics_ai.families.anomaly import AnomalyRequest
from metrics_ai.families.base import DomainPredictor, Predictor
from metrics_ai.families.models import RowLayout, RowsRequest
from serving.codec import codec_for
from serving.codec_v2 import V2Codec
from serving.tensor_specs import input_specs
from tests.serving.codec_calls import v1, v2

ROW = [0.5, 0.6, 0.4, 100.0, 80.0]
NODE = {"host_cpu": 0.3, "host_mem": 0.5, "pod_cpu": 0.25, "pod_mem": 0.4}


def _load(root: Path, model: str) -> Predictor:
    manifest, folder = ModelStore(root, model).verify()
    return FAMILIES[model].predictor.load(folder, manifest)


@pytest.fixture(scope="module")
def anomaly(basic_models: Path) -> Predictor:
    return _load(basic_models, "anomaly-detector")


@pytest.fixture(scope="module")
def outliers(basic_models: Path) -> Predictor:
    return _load(basic_models, "node-outliers")


def test_v1_lists_objects_and_v2_give_the_same_answer(anomaly: Predictor) -> None:
    rows = np.random.default_rng(1).normal(ROW, np.abs(ROW) * 0.1, size=(70, 5))  # past the lookup threshold
    names = ("cpu_usage", "memory_usage", "pod_restarts", "network_in", "network_out")
    as_lists = v1(anomaly, rows.tolist())
    as_objects = v1(anomaly, [dict(zip(names, r, strict=True)) for r in rows.tolist()])
    assert as_lists == as_objects
    outputs = v2(anomaly, {"metrics": rows})
    assert outputs["label"].tolist() == [p["label"] for p in as_lists]
    assert set(as_lists[0]) == {"label", "is_anomaly", "score", "top_metrics"}


@pytest.mark.parametrize(
    ("instances", "field", "words"),
    [
        ([ROW[:4]], "instances[0]", "has 4 values; expected 5"),
        ([[*ROW[:2], "x", *ROW[3:]]], "instances[0][2]", "expected a finite number, got 'x'"),
        ([[True, *ROW[1:]]], "instances[0][0]", "got True"),
        ([[1e400, *ROW[1:]]], "instances[0][0]", "NaN or infinity"),
        ([{"cpu_usage": 1}], "instances[0].memory_usage", "missing"),
        (
            [{**dict.fromkeys(("cpu_usage", "memory_usage", "pod_restarts", "network_in", "network_out"), 1), "x": 1}],
            "instances[0].x",
            "unknown key",
        ),
        ([ROW, {"cpu_usage": 1}], "instances[1]", "expected a list of numbers"),
    ],
)
def test_v1_errors_name_the_field(anomaly: Predictor, instances: list, field: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        v1(anomaly, instances)
    assert caught.value.field == field and words in str(caught.value)


def test_node_outliers_errors_in_each_protocols_terms(outliers: Predictor) -> None:
    two = [{"cluster": "new", "node": f"n{i}", **NODE} for i in range(2)]
    with pytest.raises(InvalidInputError) as caught:
        v1(outliers, two)
    assert caught.value.field == "instances[0].cluster"  # the domain's refusal, in V1 terms
    with pytest.raises(InvalidInputError) as caught:
        v2(
            outliers,
            {
                "cluster": np.array(["new", "new"], dtype=object),
                "node": np.array(["a", "b"], dtype=object),
                "features": np.zeros((2, 4)),
            },
        )
    assert caught.value.field == "cluster[0]"  # ... and in V2 terms
    with pytest.raises(InvalidInputError) as caught:
        v1(outliers, [{"cluster": "", "node": "a", **NODE}])
    assert caught.value.field == "instances[0].cluster"
    with pytest.raises(InvalidInputError) as caught:  # one string convention: V2 refuses empty text too
        v2(
            outliers,
            {
                "cluster": np.array(["c", ""], dtype=object),
                "node": np.array(["a", "b"], dtype=object),
                "features": np.zeros((2, 4)),
            },
        )
    assert caught.value.field == "cluster[1]"
    with pytest.raises(InvalidInputError) as caught:
        v2(
            outliers,
            {
                "cluster": np.array(["c"], dtype=object),
                "node": np.array(["a", "b"], dtype=object),
                "features": np.zeros((2, 4)),
            },
        )
    assert caught.value.field == "cluster" and "one per row" in str(caught.value)


def test_v2_nan_is_never_padding_in_a_row_model(anomaly: Predictor) -> None:
    rows = np.tile(ROW, (3, 1))
    rows[2, 3] = np.nan
    with pytest.raises(InvalidInputError) as caught:
        v2(anomaly, {"metrics": rows})
    assert caught.value.field == "metrics[2][3]"


def test_request_models_refuse_unknown_fields_and_disagreeing_columns() -> None:
    with pytest.raises(ValueError, match="extra"):
        AnomalyRequest.model_validate({"columns": ("a",), "metrics": [[1.0]], "other": 1})
    with pytest.raises(ValueError, match=r"expected shape \[N, 2\]"):
        AnomalyRequest.model_validate({"columns": ("a", "b"), "metrics": [[1.0]]})


def test_metadata_and_codec_read_one_spec(anomaly: Predictor, outliers: Predictor) -> None:
    for predictor in (anomaly, outliers):
        assert isinstance(predictor, DomainPredictor)
        family = next(f for f in FAMILIES.values() if isinstance(predictor, f.predictor))
        layout, model = predictor.layout(), predictor.request
        assert isinstance(layout, RowLayout) and issubclass(model, RowsRequest)
        assert V2Codec(model, layout).inputs == input_specs(family)


def test_positives_come_from_the_response(anomaly: Predictor) -> None:
    spiked = [ROW] * 10 + [[50.0, 50.0, 500.0, 1e7, 1e7]] * 3
    answer = codec_for(FAMILIES["anomaly-detector"], anomaly).v1(spiked)
    assert list(map(bool, answer.flags)) == [p["is_anomaly"] for p in answer.predictions]
    assert any(answer.flags)


def test_plain_rows_skip_revalidation_only_where_the_model_checks_nothing_else(anomaly: Predictor) -> None:
    """The hot path builds anomaly-detector's request without pydantic: the same model as validated."""
    from metrics_ai.families.node_outliers import NodeOutlierRequest

    assert AnomalyRequest.checks_only_the_matrix()
    assert not NodeOutlierRequest.checks_only_the_matrix()  # text columns: always validated
    codec = codec_for(FAMILIES["anomaly-detector"], anomaly)
    assert hasattr(codec, "_v1") and codec._v1._construct  # type: ignore[attr-defined]
    rows = [[0.5, 0.6, 0.0, 1e6, 2e6], [0.55, 0.61, 1.0, 1.1e6, 2.1e6]]
    fast = codec._v1.request(rows)  # type: ignore[attr-defined]
    checked = AnomalyRequest.model_validate({"metrics": rows, "columns": AnomalyRequest.layout.columns})
    assert fast.columns == checked.columns
    np.testing.assert_array_equal(fast.metrics, checked.metrics)
    assert fast.metrics.dtype == np.float64 and fast.metrics.flags.c_contiguous
