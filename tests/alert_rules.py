"""The chart's own alerting rules, rendered by the real Helm engine, as Prometheus rule files.

Used by the promtool tests under tests/chart/ and by tests that run a real Prometheus over
the rules (with tests/prometheus_fixture.py and tests/alertmanager_fixture.py): what they
evaluate is exactly what `helm install` would create, never a copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

CHART_DIR = Path(__file__).resolve().parents[1] / "charts" / "metrics-ai"
RELEASE = NAMESPACE = "metrics-ai"


def rule_groups(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rule groups of the (single) PrometheusRule among rendered objects; [] when none."""
    rules = [o for o in objects if o["kind"] == "PrometheusRule"]
    assert len(rules) <= 1, f"expected at most one PrometheusRule, got {len(rules)}"
    return rules[0]["spec"]["groups"] if rules else []


def render_objects(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Render the chart with ``values`` (over its defaults): every Kubernetes object, in order."""
    with helm.Chart.load(CHART_DIR) as chart:
        rendered = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    texts = [text for path, text in rendered.items() if path.endswith(".yaml")]  # NOTES.txt is not YAML
    return [doc for text in texts for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]


def render_rule_groups(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Render the chart with ``values`` (over its defaults) and return its rule groups."""
    return rule_groups(render_objects(values))


def write_rules_file(groups: list[dict[str, Any]], path: Path) -> Path:
    """Write rule groups as a Prometheus rules file (``rule_files:`` / ``promtool check rules``)."""
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path


def alerts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every alerting rule of the groups, in order (one alert name may have several rules)."""
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]
