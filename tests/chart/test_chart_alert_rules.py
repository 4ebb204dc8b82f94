"""The chart's PrometheusRule passes `promtool check rules`, and `promtool test rules` shows
every alert firing with its labels and annotations where it should, and nowhere else."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from tests.alert_rules import alerts, rule_groups, write_rules_file
from tests.chart.alert_cases import GENERATORS, promtool_tests
from tests.chart.conftest import CHART_DIR, Render, load_values
from tests.chart.promtool_cases import seconds
from tests.prometheus_fixture import prometheus_binaries

#: the alert set of the alerting contract
CONTRACT = set(GENERATORS)
TUNED = {
    "update": {"enabled": True},
    "alerting": {
        "interval": 30,
        "alertLabels": {"team": "platform"},
        "runbookBaseUrl": "https://docs.example.com/metrics-ai/openshift.html",
        "rules": {
            "MetricsAIFilesystemFillingUp": {"for": "30m"},
            "MetricsAICrisisAhead": {"days": 2.5, "for": "2h"},
            "MetricsAIForecastDeviation": {"for": "0m", "severity": "critical"},
            "MetricsAINodeOutlier": {"for": "90m", "severity": "warning"},
            "MetricsAIModelStale": {"maxAgeDays": 3.5},
            "MetricsAIReloadsFailing": {"for": "0s"},
            "MetricsAIAlertingPassStale": {"staleIntervals": 3, "for": "10m"},
            "MetricsAIModelDrift": {"psi": 0.1, "minSamples": 500, "for": "3h"},
            "MetricsAILiveErrorHigh": {"ratio": 2, "minScored": 50, "for": "30m", "severity": "info"},
        },
    },
}
VARIANTS = {"defaults": {}, "tuned": TUNED, "ci-alerting": load_values(CHART_DIR / "ci" / "alerting-values.yaml")}


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's value merge: maps merge key by key, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run promtool; the output tells what failed."""
    _, binary = prometheus_binaries()
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("variant", VARIANTS)
def test_rendered_rules_pass_promtool_check(render: Render, tmp_path: Path, variant: str) -> None:
    groups = rule_groups(render(VARIANTS[variant]))
    assert groups
    write_rules_file(groups, tmp_path / "rules.yml")
    checked = promtool("check", "rules", "rules.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alerts(groups))} rules found" in checked.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_alert_fires_where_it_should_and_nowhere_else(
    chart: helm.Chart, render: Render, tmp_path: Path, variant: str
) -> None:
    values = merged(chart.values, VARIANTS[variant])
    groups = rule_groups(render(VARIANTS[variant]))
    rules = alerts(groups)
    write_rules_file(groups, tmp_path / "rules.yml")
    tests = promtool_tests(rules, values, "rules.yml")
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    tested = promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    checked = {t["alertname"] for group in tests["tests"] for t in group["alert_rule_test"]}
    assert checked == {r["alert"] for r in rules}
    # each alert has a case that fires (beside entities that must not) and, when it has a
    # `for:`, an evaluation where nothing has lasted long enough
    waits = {r["alert"] for r in rules if seconds(r["for"])}
    for name in checked:
        outcomes = [
            bool(t["exp_alerts"]) for g in tests["tests"] for t in g["alert_rule_test"] if t["alertname"] == name
        ]
        assert True in outcomes and (False in outcomes or name not in waits), name


def test_the_rules_are_the_contracts_alert_set(default_objects: list[dict[str, Any]]) -> None:
    rules = alerts(rule_groups(default_objects))
    assert {r["alert"] for r in rules} == CONTRACT
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        # no runbook_url by default: the chart cannot know where the user publishes the runbooks
        assert set(rule["annotations"]) == {"summary", "description"}, rule["alert"]
        assert "$labels" in rule["annotations"]["description"] or rule["expr"].startswith("absent("), rule["alert"]


def test_dashboard_queries_are_valid_promql(render: Render, tmp_path: Path, pick: Any) -> None:
    objects = render({"alerting": {"dashboard": {"enabled": True}}})
    (configmap,) = [o for o in pick.by_kind(objects, "ConfigMap") if o["metadata"]["namespace"] != "metrics-ai"]
    dashboard = json.loads(configmap["data"]["metrics-ai.json"])
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["query"].removeprefix("label_values(").rsplit(",", 1)[0] for v in dashboard["templating"]["list"]]
    concrete = [e.replace("$cluster", ".*").replace("$entity", "worker-1").replace("$signal", "cpu") for e in exprs]
    assert all('namespace="metrics-ai"' in e for e in concrete), "every query is scoped to the release"
    rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(concrete)]
    write_rules_file([{"name": "dashboard", "rules": rules}], tmp_path / "dashboard.yml")
    checked = promtool("check", "rules", "dashboard.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
