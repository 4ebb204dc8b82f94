"""prometheus.queries: one QUERIES_FILE ConfigMap, mounted in every pod that reads Prometheus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from metrics_ai.prometheus import load_queries
from metrics_ai.series import SIGNALS
from metrics_ai.settings import Settings
from tests.chart.conftest import CHART_DIR, load_values, pod_spec

QUERIES = 'cpu: sum by (node) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))\npod_restarts: null\n'


def _readers(objects: list[dict[str, Any]], pick: Any) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(who, pod-level spec, container) of every pod that reads Prometheus."""
    found = []
    for obj in pick.by_kind(objects, "CronJob") + pick.by_kind(objects, "Deployment"):
        spec = pod_spec(obj)
        found.append((obj["metadata"]["name"], spec, spec["containers"][0]))
    for runtime in pick.by_kind(objects, "ServingRuntime"):
        found.append((runtime["metadata"]["name"], runtime["spec"], runtime["spec"]["containers"][0]))
    return found


def test_queries_reach_training_update_alerting_and_predictor(render: Any, pick: Any, tmp_path: Path) -> None:
    values = {
        "prometheus": {"queries": QUERIES},
        "update": {"enabled": True},
        "predictor": {"prometheus": {"enabled": True}},
    }
    objects = render(values)
    configmap = pick.one(objects, "ConfigMap", "metrics-ai-queries")
    readers = _readers(objects, pick)
    assert {who for who, _, _ in readers} >= {
        "metrics-ai-train",
        "metrics-ai-update",
        "metrics-ai-alerting",
        "anomaly-detector",
    }
    for who, spec, container in readers:
        env = {e["name"]: e.get("value") for e in container["env"]}
        directory, key = env["QUERIES_FILE"].rsplit("/", 1)
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == directory)
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        assert volume["configMap"]["name"] == "metrics-ai-queries", who
        assert key in configmap["data"], who
    # the mounted file is what the code reads: the override on top of the package defaults
    path = tmp_path / "queries.yaml"
    path.write_text(configmap["data"]["queries.yaml"])
    queries = load_queries(Settings(queries_file=path))
    assert queries["cpu"] == yaml.safe_load(QUERIES)["cpu"] and "pod_restarts" not in queries
    assert "memory" in queries  # a signal the file leaves out keeps its default


def test_no_queries_no_configmap_and_no_queries_file(default_objects: list[dict[str, Any]], pick: Any) -> None:
    assert not [c for c in pick.by_kind(default_objects, "ConfigMap") if c["metadata"]["name"].endswith("-queries")]
    for who, _, container in _readers(default_objects, pick):
        assert "QUERIES_FILE" not in {e["name"] for e in container["env"]}, who


def test_the_predictor_mounts_queries_only_when_it_reads_prometheus(render: Any, pick: Any) -> None:
    (container,) = pick.runtime(render({"prometheus": {"queries": QUERIES}}))["spec"]["containers"]
    assert "QUERIES_FILE" not in {e["name"] for e in container["env"]}
    assert all(m["name"] != "queries" for m in container["volumeMounts"])


def test_the_charts_signal_list_is_the_codes() -> None:
    """validate-values.yaml names the canonical signals; they must not drift from metrics_ai.series."""
    text = (CHART_DIR / "templates" / "validate-values.yaml").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("{{- $signals := list"))
    assert tuple(line.split("list ", 1)[1].removesuffix(" -}}").replace('"', "").split()) == SIGNALS


def test_the_s3_example_adapts_the_queries(render: Any, pick: Any) -> None:
    values = load_values(CHART_DIR / "ci" / "s3-values.yaml")
    configmap = pick.one(render(values), "ConfigMap", "metrics-ai-queries")
    assert yaml.safe_load(configmap["data"]["queries.yaml"]) == yaml.safe_load(values["prometheus"]["queries"])
