"""Bad values fail early with a message naming the field; every value is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from tests.chart.conftest import CHART_DIR

BAD_VALUES = sorted((Path(__file__).parent / "bad-values").glob("*.yaml"))


def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: <message>'"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("bad", BAD_VALUES, ids=[p.stem for p in BAD_VALUES])
def test_bad_values_fail_with_a_message_naming_the_field(render_raw: Any, bad: Path) -> None:
    with pytest.raises(helm.HelmError) as caught:
        render_raw(yaml.safe_load(bad.read_text()))
    assert _expected(bad) in str(caught.value)


def test_schema_errors_come_before_rendering(chart: helm.Chart) -> None:
    with pytest.raises(
        helm.HelmValuesError, match=r"at '/train/schedule': got number, want string"
    ):
        chart.validate_schema({"train": {"schedule": 5}})


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"days": -1}, "at '/update/days': exclusiveMinimum: got -1, want 0"),
        ({"days": 0}, "at '/update/days': exclusiveMinimum: got 0, want 0"),
        ({"days": 91}, "at '/update/days': maximum: got 91, want 90"),
        ({"days": "2"}, "at '/update/days': got string, want number"),
        ({"days": None}, "at '/update': missing property 'days'"),
        ({"suspend": "yes"}, "at '/update/suspend': got string, want boolean"),
    ],
    ids=["days-negative", "days-zero", "days-above-90", "days-string", "days-null", "suspend"],
)
def test_bad_update_values_fail_the_schema(
    chart: helm.Chart, update: dict[str, Any], message: str
) -> None:
    values = {"update": {"enabled": True, **update}}
    with pytest.raises(helm.HelmValuesError, match=re.escape(message)):
        chart.validate_schema(values)


def test_all_problems_are_reported_at_once(render_raw: Any) -> None:
    off = {"enabled": False}
    values = {
        "combined": {"enabled": True},
        "models": {
            m: off
            for m in (
                "anomaly-detector",
                "node-outliers",
                "resource-forecast",
                "disk-eta",
                "io-crisis",
            )
        },
        "predictor": {"minReplicas": 3, "maxReplicas": 2},
        "persistence": {"accessModes": ["ReadWriteOncePod"]},
        "s3": {"uri": ""},
    }
    with pytest.raises(helm.HelmRenderError) as caught:
        render_raw(values)
    message = str(caught.value)
    for field in ("combined.enabled", "predictor.maxReplicas", "persistence.accessModes"):
        assert field in message


def test_schema_is_draft_07_and_closed(chart: helm.Chart) -> None:
    schema = chart.schema
    assert schema is not None
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"

    def closed(node: dict[str, Any], where: str) -> None:
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is not True, where
            for key, child in node["properties"].items():
                closed(child, f"{where}.{key}")

    closed(schema, "values")
    assert schema["additionalProperties"] is False


def _leaf_paths(node: Any, prefix: str = "") -> set[str]:
    """Dotted paths of the documented values: leaves, and empty maps/lists (free-form objects)."""
    if isinstance(node, dict) and node and not _is_free_form(prefix):
        paths: set[str] = set()
        for key, value in node.items():
            paths |= _leaf_paths(value, f"{prefix}.{key}" if prefix else key)
        return paths
    return {prefix}


def _is_free_form(path: str) -> bool:
    """Values documented as a whole (resources, label maps, lists of tolerations...)."""
    return path.rsplit(".", 1)[-1] in {"resources", "inferenceServiceLabels", "tolerations"}


def test_every_value_is_documented_bitnami_style() -> None:
    text = (CHART_DIR / "values.yaml").read_text()
    documented = set(re.findall(r"^\s*## @param (\S+) \S", text, flags=re.MULTILINE))
    defined = _leaf_paths(yaml.safe_load(text))
    assert defined - documented == set(), "values without a '## @param' line"
    assert documented - defined == set(), "'## @param' lines for values that do not exist"


def test_defaults_pass_the_schema(chart: helm.Chart) -> None:
    chart.validate_schema(chart.values)
