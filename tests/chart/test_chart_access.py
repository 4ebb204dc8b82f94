"""Who may call the predictors: the NetworkPolicy's sources, and authenticated inference (issue 18)."""

from __future__ import annotations

from typing import Any

from tests.chart.conftest import selects

POLICY, ROLE = "metrics-ai-predictor", "metrics-ai-inference"
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def predictor_rule(objects: list[dict[str, Any]], pick: Any) -> dict[str, Any]:
    (rule,) = pick.one(objects, "NetworkPolicy", POLICY)["spec"]["ingress"]
    return rule


def admits_pod(rule: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a pod of the release's namespace with ``labels`` is among the rule's sources."""
    return any(set(f) == {"podSelector"} and selects(f["podSelector"], labels) for f in rule["from"])


def namespaces(rule: dict[str, Any]) -> list[str]:
    return [
        f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for f in rule["from"]
        if "kubernetes.io/metadata.name" in f.get("namespaceSelector", {}).get("matchLabels", {})
    ]


def test_by_default_only_the_alerting_client_the_test_pod_and_monitoring_get_in(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    rule = predictor_rule(default_objects, pick)
    client = pick.one(default_objects, "Deployment", "metrics-ai-alerting")["spec"]["template"]["metadata"]["labels"]
    assert admits_pod(rule, client)
    common = pick.one(default_objects, "Deployment", "metrics-ai-alerting")["metadata"]["labels"]
    assert admits_pod(rule, {**common, "app.kubernetes.io/component": "test"})  # the helm test pod
    train = pick.one(default_objects, "CronJob", "metrics-ai-train")
    assert not admits_pod(rule, train["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"])
    assert not admits_pod(rule, {"app": "curl"})  # any other pod of the namespace
    assert {"podSelector": {}} not in rule["from"]
    assert namespaces(rule) == ["openshift-monitoring", "openshift-user-workload-monitoring"]
    assert sorted(p["port"] for p in rule["ports"]) == [8080, 8081]


def test_same_namespace_and_client_namespaces_are_opt_in(render: Any, pick: Any) -> None:
    rule = predictor_rule(render({"networkPolicy": {"allowSameNamespace": True}}), pick)
    assert {"podSelector": {}} in rule["from"] and admits_pod(rule, {"app": "curl"})
    extra = {"ingressNamespaces": ["openshift-monitoring", "openshift-user-workload-monitoring", "dashboards"]}
    rule = predictor_rule(render({"networkPolicy": extra}), pick)
    assert "dashboards" in namespaces(rule) and not admits_pod(rule, {"app": "curl"})


def test_auth_annotates_every_inference_service_and_grants_the_callers(render: Any, pick: Any) -> None:
    plain = render()
    for isvc in pick.by_kind(plain, "InferenceService"):
        assert "security.opendatahub.io/enable-auth" not in isvc["metadata"]["annotations"]
    assert not [o for o in plain if o["metadata"]["name"] == ROLE]

    objects = render({"predictor": {"auth": {"enabled": True, "clients": ["dashboards:grafana"]}}})
    isvcs = pick.by_kind(objects, "InferenceService")
    assert len(isvcs) == 5
    for isvc in isvcs:
        assert isvc["metadata"]["annotations"]["security.opendatahub.io/enable-auth"] == "true"
    (rule,) = pick.one(objects, "Role", ROLE)["rules"]
    assert rule["apiGroups"] == ["serving.kserve.io"] and rule["resources"] == ["inferenceservices"]
    assert rule["verbs"] == ["get"]
    assert sorted(rule["resourceNames"]) == sorted(i["metadata"]["name"] for i in isvcs)
    binding = pick.one(objects, "RoleBinding", ROLE)
    assert binding["roleRef"]["name"] == ROLE
    assert [(s["namespace"], s["name"]) for s in binding["subjects"]] == [
        ("metrics-ai", "metrics-ai-alerting"),
        ("dashboards", "grafana"),
    ]
    container = pick.one(objects, "Deployment", "metrics-ai-alerting")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "PREDICTOR_TOKEN_FILE", "value": TOKEN} in container["env"]
    assert 8443 in [p["port"] for p in predictor_rule(objects, pick)["ports"]]  # the auth proxy's port


def test_auth_in_combined_mode_grants_the_one_inference_service(render: Any, pick: Any) -> None:
    objects = render({"combined": {"enabled": True}, "predictor": {"auth": {"enabled": True}}})
    (isvc,) = pick.by_kind(objects, "InferenceService")
    (rule,) = pick.one(objects, "Role", ROLE)["rules"]
    assert rule["resourceNames"] == [isvc["metadata"]["name"]]
