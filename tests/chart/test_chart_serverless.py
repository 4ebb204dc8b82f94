"""Serverless mode: the predictor NetworkPolicy admits Knative's activator and ingress gateway."""

from __future__ import annotations

from typing import Any

from tests.chart.conftest import CHART_DIR, load_values, selects

KNATIVE = ("knative-serving", "knative-serving-ingress")


def _namespaces(rule: dict[str, Any]) -> set[str]:
    return {
        f["namespaceSelector"]["matchLabels"].get("kubernetes.io/metadata.name", "")
        for f in rule["from"]
        if "namespaceSelector" in f
    }


def _knative_rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in policy["spec"]["ingress"] if set(KNATIVE) <= _namespaces(r)]


def test_serverless_admits_knative_to_the_predictors(render: Any, pick: Any) -> None:
    objects = render(load_values(CHART_DIR / "ci" / "ray-update-values.yaml"))  # the Serverless example
    assert {
        i["metadata"]["annotations"]["serving.kserve.io/deploymentMode"]
        for i in pick.by_kind(objects, "InferenceService")
    } == {"Serverless"}
    policy = pick.one(objects, "NetworkPolicy", "metrics-ai-predictor")
    for isvc in pick.by_kind(objects, "InferenceService"):
        assert selects(policy["spec"]["podSelector"], isvc["spec"]["predictor"]["labels"])
    (rule,) = _knative_rules(policy)
    # the queue-proxy's ports (8012, 8013, 9090, 9091) vary with Knative: every port
    assert "ports" not in rule
    assert "istio-system" in _namespaces(rule)
    labels = [f["namespaceSelector"]["matchLabels"] for f in rule["from"]]
    assert {"knative.openshift.io/system-namespace": "true"} in labels
    # the predictors' own rule (the alerting client, the helm test pod, ingressNamespaces) is kept beside it
    (own,) = [r for r in policy["spec"]["ingress"] if r is not rule]
    clients = [f["podSelector"] for f in own["from"] if "podSelector" in f]
    assert clients and clients[0]["matchExpressions"][0]["values"] == ["alerting", "test"]


def test_raw_deployment_admits_no_knative(default_objects: list[dict[str, Any]], pick: Any) -> None:
    policy = pick.one(default_objects, "NetworkPolicy", "metrics-ai-predictor")
    assert not _knative_rules(policy)
    assert all("knative" not in ns for r in policy["spec"]["ingress"] for ns in _namespaces(r))
