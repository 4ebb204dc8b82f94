"""The family registry is the one list of served models: everything else agrees with it.

The chart (values, schema, templates, description), the bench payloads and the training
job's trainer and updater lookups are held against :data:`metrics_ai.families.FAMILIES`,
so adding, renaming or removing a family fails here until every copy follows.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bench import payloads
from metrics_ai.families import FAMILIES, MODEL_NAMES, predictor_class
from metrics_ai.families.anomaly import AnomalyResponse
from metrics_ai.families.disk_eta import DiskEtaResponse
from metrics_ai.families.forecast.models import ForecastResponse
from metrics_ai.families.io_crisis import IoCrisisResponse
from metrics_ai.families.node_outliers import NodeOutlierResponse
from serving.tensor_specs import input_specs
from training.families import trainer_class
from training.updates import updater_class

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "metrics-ai"


def test_names_are_the_descriptors_in_order() -> None:
    assert tuple(f.name for f in FAMILIES.values()) == MODEL_NAMES
    assert len(set(MODEL_NAMES)) == len(MODEL_NAMES) == 5
    assert len({f.module for f in FAMILIES.values()}) == len(FAMILIES)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_family_has_its_three_halves(model: str) -> None:
    family = FAMILIES[model]
    assert predictor_class(model) is family.predictor
    assert trainer_class(model).family is family
    assert updater_class(model).family is family
    assert family.signals and all(isinstance(s, str) for s in family.signals)


def test_values_list_every_model_in_order() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert tuple(values["models"]) == MODEL_NAMES


def test_schema_lists_every_model_and_no_other() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    models = schema["properties"]["models"]
    assert tuple(models["properties"]) == MODEL_NAMES
    assert tuple(models["required"]) == MODEL_NAMES
    assert models["additionalProperties"] is False
    for where, items in _string_lists(schema):
        if set(items) & set(MODEL_NAMES):
            assert set(items) <= set(MODEL_NAMES), f"schema {where}: {items}"


def test_template_lists_hold_model_names_only() -> None:
    """The enabled-models helper lists all five in order; any other list of names names only models."""
    found: dict[str, list[list[str]]] = {}
    for path in sorted(p for p in (CHART / "templates").rglob("*") if p.is_file()):
        for items in re.findall(r'\(?list((?:\s+"[^"]*")+)', path.read_text()):
            names = re.findall(r'"([^"]*)"', items)
            if set(names) & set(MODEL_NAMES):
                assert set(names) <= set(MODEL_NAMES), f"{path.name}: {names}"
                found.setdefault(path.name, []).append(names)
    assert found["_helpers.tpl"] == [list(MODEL_NAMES)]
    assert [set(n) for n in found["validate-values.yaml"]] == [set(MODEL_NAMES)]


def test_chart_messages_and_description_name_every_model() -> None:
    validate = (CHART / "templates" / "validate-values.yaml").read_text()
    assert f"at least one of {', '.join(MODEL_NAMES)}" in validate
    description = " ".join(yaml.safe_load((CHART / "Chart.yaml").read_text())["description"].split())
    assert f"({', '.join(MODEL_NAMES)})" in description


def test_ci_values_name_known_models_only() -> None:
    for path in sorted((CHART / "ci").glob("*.yaml")):
        values = yaml.safe_load(path.read_text()) or {}
        assert set(values.get("models", {})) <= set(MODEL_NAMES), path.name


def test_bench_payloads_match_each_predictors_v2_inputs() -> None:
    """bench/payloads.py's text inputs are each family's BYTES inputs, and no other model's."""
    assert set(payloads.TEXT_INPUTS) <= set(MODEL_NAMES)
    for model in MODEL_NAMES:
        text = [name for name, (datatype, _) in input_specs(FAMILIES[model]).items() if datatype == "BYTES"]
        assert [name for name, _ in payloads.TEXT_INPUTS.get(model, ())] == text, model


def _string_lists(node: Any, where: str = "") -> Iterator[tuple[str, list[str]]]:
    """Every list of strings in a JSON document, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _string_lists(value, f"{where}/{key}")
    elif isinstance(node, list):
        if node and all(isinstance(item, str) for item in node):
            yield where, node
        for i, item in enumerate(node):
            yield from _string_lists(item, f"{where}/{i}")


def _crossing_rows(key: str, value: str) -> dict[str, Any]:
    """The columns every crossing response has, for two rows."""
    return {
        "cluster": [None, None],
        "node": ["a", "b"],
        key: [value, value],
        "threshold": [90.0, 90.0],
        "source": ["request"] * 2,
        "reason": [None, None],
        "note": [None, None],
    }


@pytest.mark.parametrize(
    ("model", "alarm", "quiet"),
    [
        ("anomaly-detector", {"is_anomaly": True}, {"is_anomaly": False}),
        ("node-outliers", {"is_outlier": True}, {"is_outlier": False}),
        ("resource-forecast", {"deviation": {"is_anomaly": True}}, {"deviation": None}),
        ("disk-eta", {"severity": "WARNING"}, {"severity": "OK"}),
        ("io-crisis", {"crisis": True}, {"crisis": False}),
    ],
)
def test_positive_is_what_each_family_counts_as_an_alarm(
    model: str, alarm: dict[str, Any], quiet: dict[str, Any]
) -> None:
    """The predictor's positives metric counts what the family says: its response model."""
    flags = np.asarray([True, False])
    response = {
        "anomaly-detector": lambda: AnomalyResponse(
            label=np.where(flags, -1, 1), is_anomaly=flags, score=np.zeros(2), top_metrics=[[], []]
        ),
        "node-outliers": lambda: NodeOutlierResponse(
            cluster=["c", "c"], node=["a", "b"], is_outlier=flags, score=np.zeros(2), model=["cluster"] * 2
        ),
        "resource-forecast": lambda: ForecastResponse.model_construct(
            None,
            **{"deviation": [alarm["deviation"], quiet["deviation"]]},  # positives read only the deviation
        ),
        "disk-eta": lambda: DiskEtaResponse(
            **_crossing_rows("mountpoint", "/"),
            current_usage=[80.0, 50.0],
            eta_days=[
                {"linear": 5.0, "prophet": None, "ensemble": 5.0},
                {"linear": None, "prophet": None, "ensemble": None},
            ],
            severity=[alarm["severity"], quiet["severity"]],
        ),
        "io-crisis": lambda: IoCrisisResponse(
            **_crossing_rows("signal", "io_wait"),
            crisis=[alarm["crisis"], quiet["crisis"]],
            days_to_crisis=[2.0, None],
            forecast_peak=[0.5, 0.1],
        ),
    }[model]()
    assert response.positives().tolist() == [True, False]



def _files_spelling(name: str) -> list[Path]:
    """Product modules with ``name`` as a string literal (docstrings and comments don't count)."""
    found = []
    for package in ("metrics_ai", "serving", "training", "alerting"):
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(isinstance(node, ast.Constant) and node.value == name for node in ast.walk(tree)):
                found.append(path.relative_to(REPO))
    return found


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_a_model_name_is_spelled_in_its_descriptor_only(model: str) -> None:
    """Everything else (alerting client, drift, training windows) reads the name from the registry."""
    family = REPO / "metrics_ai" / "families" / FAMILIES[model].module
    descriptor = family / "__init__.py" if family.is_dir() else family.with_suffix(".py")
    assert _files_spelling(model) == [descriptor.relative_to(REPO)]
