"""The alerting client, its Service, ServiceMonitor, NetworkPolicy, PrometheusRule and dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.alert_rules import alerts, rule_groups
from tests.chart.conftest import MODELS, REPO, pod_spec, selects

NAME = "metrics-ai-alerting"
URL = "http://{model}-predictor.metrics-ai.svc.cluster.local"


def _client(objects: list[dict[str, Any]], pick: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The client's pod spec and container."""
    pod = pod_spec(pick.one(objects, "Deployment", NAME))
    (container,) = pod["containers"]
    return pod, container


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container["env"]}


def test_client_runs_from_the_serve_image_against_each_inference_service(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    deployment = pick.one(default_objects, "Deployment", NAME)
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    _, container = _client(default_objects, pick)
    assert container["command"] + container["args"] == [
        "python", "-m", "alerting", "--predictor", URL, "--port", "9105", "--interval", "60",
        "--models", ",".join(MODELS),
    ]  # fmt: skip
    (runtime,) = pick.runtime(default_objects)["spec"]["containers"]
    assert container["image"] == runtime["image"]
    # KServe puts Service <name>-predictor (port 80) in front of an InferenceService, in
    # RawDeployment and Serverless mode alike: the template reaches every model's
    for isvc in pick.by_kind(default_objects, "InferenceService"):
        model = isvc["metadata"]["name"]
        assert URL.format(model=model) == f"http://{model}-predictor.metrics-ai.svc.cluster.local"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": 9105}
    assert container["ports"] == [{"name": "metrics", "containerPort": 9105, "protocol": "TCP"}]


def test_client_reads_prometheus_like_the_training_job(default_objects: list[dict[str, Any]], pick: Any) -> None:
    pod, container = _client(default_objects, pick)
    train = pod_spec(pick.one(default_objects, "CronJob", "metrics-ai-train"))["containers"][0]
    env, train_env = _env(container), _env(train)
    for name in ("PROMETHEUS_URL", "PROMETHEUS_TOKEN_FILE", "PROMETHEUS_CA_FILE", "CLUSTER_LABEL", "CLUSTER_NAME"):
        assert env[name] == train_env[name], name
    ca_dir = env["PROMETHEUS_CA_FILE"].rsplit("/", 1)[0]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == ca_dir)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "metrics-ai-service-ca"
    assert pod["automountServiceAccountToken"] is True and pod["serviceAccountName"] == NAME
    account = pick.one(default_objects, "ServiceAccount", NAME)
    assert account["automountServiceAccountToken"] is False  # only this pod opts in
    subjects = pick.one(default_objects, "ClusterRoleBinding")["subjects"]
    assert {"kind": "ServiceAccount", "name": NAME, "namespace": "metrics-ai"} in subjects


def test_cluster_name_is_passed_when_set(render: Any, pick: Any) -> None:
    _, container = _client(render({"prometheus": {"clusterName": "prod-east"}}), pick)
    assert _env(container)["CLUSTER_NAME"] == "prod-east"


@pytest.mark.parametrize(
    ("values", "predictor", "extra"),
    [
        ({"combined": {"enabled": True}}, "http://metrics-ai-predictor.metrics-ai.svc.cluster.local", []),
        ({"combined": {"enabled": True, "name": "small"}}, "http://small-predictor.metrics-ai.svc.cluster.local", []),
        ({"predictor": {"deploymentMode": "Serverless"}}, URL, []),
        ({"alerting": {"predictorUrl": "https://gw.example.com/{model}"}}, "https://gw.example.com/{model}", []),
        (
            {"alerting": {"modelUrls": {"disk-eta": "http://disk.other.svc", "io-crisis": "http://io.other.svc"}}},
            URL,
            ["--model-url", "disk-eta=http://disk.other.svc", "--model-url", "io-crisis=http://io.other.svc"],
        ),
    ],
    ids=["combined", "combined-named", "serverless", "override", "model-urls"],
)
def test_predictor_url_follows_the_install(
    render: Any, pick: Any, values: dict[str, Any], predictor: str, extra: list[str]
) -> None:
    objects = render(values)
    _, container = _client(objects, pick)
    assert container["args"][:2] == ["--predictor", predictor]
    assert container["args"][8:] == extra
    if values.get("combined"):
        isvc = pick.one(objects, "InferenceService")["metadata"]["name"]
        assert predictor == f"http://{isvc}-predictor.metrics-ai.svc.cluster.local"


def test_client_calls_only_the_models_the_chart_serves(render: Any, pick: Any) -> None:
    """A disabled model has no InferenceService: calling it would make every pass partial."""
    objects = render({"models": {"resource-forecast": {"enabled": False}, "anomaly-detector": {"enabled": False}}})
    _, container = _client(objects, pick)
    args = container["args"]
    assert args[args.index("--models") + 1] == "node-outliers,disk-eta,io-crisis"
    served = {isvc["metadata"]["name"] for isvc in pick.by_kind(objects, "InferenceService")}
    assert served == {"node-outliers", "disk-eta", "io-crisis"}


def test_service_and_service_monitor_expose_the_client(default_objects: list[dict[str, Any]], pick: Any) -> None:
    labels = pick.one(default_objects, "Deployment", NAME)["spec"]["template"]["metadata"]["labels"]
    service = pick.one(default_objects, "Service", NAME)
    assert selects({"matchLabels": service["spec"]["selector"]}, labels)
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9105, "targetPort": "metrics", "protocol": "TCP"}]
    monitor = pick.one(default_objects, "ServiceMonitor", NAME)
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")
    # the predictors' own monitor does not pick the client's Service up twice
    predictor_monitor = pick.one(default_objects, "ServiceMonitor", "metrics-ai-predictor")
    assert not selects(predictor_monitor["spec"]["selector"], service["metadata"]["labels"])


def test_network_policies_admit_client_to_predictors_and_monitoring_to_client(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    labels = pick.one(default_objects, "Deployment", NAME)["spec"]["template"]["metadata"]["labels"]
    policies = {p["metadata"]["name"]: p["spec"] for p in pick.by_kind(default_objects, "NetworkPolicy")}
    client = policies[NAME]
    assert selects(client["podSelector"], labels) and client["policyTypes"] == ["Ingress"]
    (rule,) = client["ingress"]
    assert [p["port"] for p in rule["ports"]] == [9105]
    namespaces = [f["namespaceSelector"]["matchLabels"] for f in rule["from"] if "namespaceSelector" in f]
    assert {"kubernetes.io/metadata.name": "openshift-user-workload-monitoring"} in namespaces
    # no other policy selects the client (they would restrict it further)
    assert [n for n, p in policies.items() if selects(p["podSelector"], labels)] == [NAME]
    # the predictors admit the client (tests/chart/test_chart_access.py: and few others)
    (predictor_rule,) = policies["metrics-ai-predictor"]["ingress"]
    same_namespace = [f["podSelector"] for f in predictor_rule["from"] if set(f) == {"podSelector"}]
    assert any(selects(s, labels) for s in same_namespace)
    assert 8080 in [p["port"] for p in predictor_rule["ports"]]


def test_alerting_off_leaves_nothing_of_it(render: Any, pick: Any) -> None:
    objects = render({"alerting": {"enabled": False}})
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert not [n for n in names if n[1] == NAME]
    assert not pick.by_kind(objects, "PrometheusRule") and not pick.by_kind(objects, "Deployment")
    subjects = pick.one(objects, "ClusterRoleBinding")["subjects"]
    assert NAME not in [s["name"] for s in subjects]


def _alert_names(objects: list[dict[str, Any]]) -> list[str]:
    return [r["alert"] for r in alerts(rule_groups(objects))]


def test_an_alert_can_be_switched_off(render: Any, default_objects: list[dict[str, Any]]) -> None:
    objects = render({"alerting": {"rules": {"MetricsAINodeOutlier": {"enabled": False}}}})
    assert set(_alert_names(default_objects)) - set(_alert_names(objects)) == {"MetricsAINodeOutlier"}


def test_entity_alerts_follow_the_enabled_models(render: Any) -> None:
    objects = render({"models": {"disk-eta": {"enabled": False}, "io-crisis": {"enabled": False}}})
    names = set(_alert_names(objects))
    assert "MetricsAIFilesystemFillingUp" not in names and "MetricsAICrisisAhead" not in names
    assert {"MetricsAINodeOutlier", "MetricsAIModelNotReady"} <= names


def test_thresholds_and_durations_reach_the_rules(render: Any) -> None:
    rules = {
        "MetricsAICrisisAhead": {"days": 2.5, "for": "30m", "severity": "critical"},
        "MetricsAIModelStale": {"maxAgeDays": 15},
        "MetricsAIAlertingPassStale": {"staleIntervals": 3},
    }
    objects = render({"alerting": {"interval": 30, "rules": rules}})
    by_name = {r["alert"]: r for r in alerts(rule_groups(objects)) if r["labels"].get("reason") in (None, "stale")}
    crisis = by_name["MetricsAICrisisAhead"]
    assert "metrics_ai_crisis_days < 2.5" in crisis["expr"] and crisis["for"] == "30m"
    assert crisis["labels"]["severity"] == "critical"
    assert "> 15 * 86400" in by_name["MetricsAIModelStale"]["expr"]
    assert "> 90" in by_name["MetricsAIAlertingPassStale"]["expr"]  # 3 intervals of 30 s


@pytest.mark.parametrize("update", [False, True])
def test_retrain_failed_watches_the_retrain_cronjobs(render: Any, pick: Any, update: bool) -> None:
    objects = render({"update": {"enabled": update}})
    (rule,) = [r for r in alerts(rule_groups(objects)) if r["alert"] == "MetricsAIRetrainFailed"]
    crons = [c["metadata"]["name"] for c in pick.by_kind(objects, "CronJob")]
    assert len(crons) == 1 + update
    assert f'owner_name=~"{"|".join(crons)}"' in rule["expr"]


def test_every_runbook_url_points_at_a_runbook_section(
    default_objects: list[dict[str, Any]], render: Any, render_raw: Any
) -> None:
    # the default links nowhere (no made-up address); where the user publishes docs/openshift.md,
    # every alert links its own section there
    assert not [r for r in alerts(rule_groups(default_objects)) if "runbook_url" in r["annotations"]]
    published = "https://git.example.com/platform/metrics-ai/-/blob/main/docs/openshift.md"
    text = (REPO / "docs" / "openshift.md").read_text()
    headings = re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)
    anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}  # GitHub's slugs
    rules = alerts(rule_groups(render({"alerting": {"runbookBaseUrl": published}})))
    for rule in rules:
        page, anchor = rule["annotations"]["runbook_url"].split("#")
        assert page == published and anchor in anchors, rule["alert"]
    assert {r["alert"].lower() for r in rules} <= anchors
    notes = "metrics-ai/templates/NOTES.txt"
    assert "set alerting.runbookBaseUrl" in render_raw()[notes]  # the install says how to link them
    assert "runbookBaseUrl" not in render_raw({"alerting": {"runbookBaseUrl": published}})[notes]


def test_dashboard_is_off_by_default_and_a_console_dashboard_when_on(
    default_objects: list[dict[str, Any]], render: Any, pick: Any
) -> None:
    def dashboards(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            o for o in pick.by_kind(objects, "ConfigMap") if "console.openshift.io/dashboard" in o["metadata"]["labels"]
        ]

    assert not dashboards(default_objects)
    (configmap,) = dashboards(render({"alerting": {"dashboard": {"enabled": True}}}))
    assert configmap["metadata"]["namespace"] == "openshift-config-managed"
    assert configmap["metadata"]["labels"]["console.openshift.io/dashboard"] == "true"
    dashboard = json.loads(configmap["data"]["metrics-ai.json"])
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    for metric in ("metrics_ai_disk_days_to_full", "metrics_ai_crisis_days", "metrics_ai_forecast_actual"):
        assert metric in exprs
    assert {"yhat", "yhat_lower", "yhat_upper"} <= set(re.findall(r'value_type="(\w+)"', exprs))
    assert "__NAMESPACE__" not in configmap["data"]["metrics-ai.json"]
