"""OpenShift restricted-v2 compliance and the shape of what the chart deploys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from metrics_ai.settings import Settings
from tests.chart.conftest import pod_spec, selects

FORBIDDEN_IDS = {"runAsUser", "runAsGroup", "fsGroup"}


def _keys(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, key) in a nested document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key
            yield from _keys(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _keys(value, f"{path}[{i}]")


# ---------------------------------------------------------------- restricted-v2


def test_no_fixed_user_or_group_anywhere(ci_objects: list[dict[str, Any]]) -> None:
    for obj in ci_objects:
        fixed = [f"{p}.{k}" for p, k in _keys(obj) if k in FORBIDDEN_IDS]
        assert not fixed, f"{obj['kind']}/{obj['metadata']['name']} pins {fixed}"


def test_every_pod_and_container_is_restricted(ci_objects: list[dict[str, Any]], pick: Any) -> None:
    pods = pick.pods(ci_objects)
    kinds = {who.split("/")[0] for who, _, _ in pods}
    alerting = bool(pick.by_kind(ci_objects, "PrometheusRule"))
    assert kinds == {"CronJob", "ServingRuntime", "InferenceService", "Pod"} | (
        {"Deployment"} if alerting else set()
    )  # Pod: the helm test hook
    for who, pod, containers in pods:
        if pod is not None:
            assert pod["securityContext"]["runAsNonRoot"] is True, who
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, who
            assert pod.get("hostNetwork") is not True and pod.get("hostPID") is not True, who
        for container in containers:
            if who.startswith("InferenceService"):
                continue  # container fields come from the ServingRuntime; checked there
            ctx = container["securityContext"]
            assert ctx["runAsNonRoot"] is True, who
            assert ctx["allowPrivilegeEscalation"] is False, who
            assert ctx["readOnlyRootFilesystem"] is True, who
            assert ctx["capabilities"] == {"drop": ["ALL"]}, who
            assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}, who
            assert "privileged" not in ctx, who


def test_every_container_has_requests_and_limits(
    ci_objects: list[dict[str, Any]], pick: Any
) -> None:
    for who, _, containers in pick.pods(ci_objects):
        for container in containers:
            res = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(res[kind]), f"{who}: {kind} {res.get(kind)}"


def test_tmp_is_an_emptydir_on_every_container(ci_objects: list[dict[str, Any]], pick: Any) -> None:
    holders = [
        o for o in ci_objects if o["kind"] in ("CronJob", "Deployment", "ServingRuntime", "Pod")
    ]
    assert holders
    for obj in holders:
        spec = obj["spec"] if obj["kind"] in ("ServingRuntime", "Pod") else pod_spec(obj)
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1, obj["metadata"]["name"]
            assert "emptyDir" in volumes[tmp[0]["name"]], obj["metadata"]["name"]


def test_service_account_tokens_are_opt_in(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    for sa in pick.by_kind(default_objects, "ServiceAccount"):
        assert sa["automountServiceAccountToken"] is False
    for isvc in pick.by_kind(default_objects, "InferenceService"):
        assert isvc["spec"]["predictor"]["automountServiceAccountToken"] is False


# ---------------------------------------------------------------- serving


def test_one_inference_service_per_model_named_after_it(
    default_objects: list[dict[str, Any]], pick: Any, model_names: tuple[str, ...]
) -> None:
    isvcs = pick.by_kind(default_objects, "InferenceService")
    assert [i["metadata"]["name"] for i in isvcs] == list(model_names)
    pvc = pick.one(default_objects, "PersistentVolumeClaim")["metadata"]["name"]
    for isvc in isvcs:
        model = isvc["spec"]["predictor"]["model"]
        runtime = pick.one(default_objects, "ServingRuntime", model["runtime"])
        assert model["modelFormat"]["name"] == runtime["spec"]["supportedModelFormats"][0]["name"]
        assert model["storageUri"] == f"pvc://{pvc}/"
        assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"


def _runtime_args(runtime: dict[str, Any]) -> list[str]:
    (container,) = runtime["spec"]["containers"]
    return container["command"] + container["args"]


def _served_by(runtime: dict[str, Any]) -> str:
    args = _runtime_args(runtime)
    return args[args.index("--models") + 1]


def test_dashboard_pairs_each_inference_service_with_its_own_runtime(
    default_objects: list[dict[str, Any]], pick: Any, model_names: tuple[str, ...]
) -> None:
    """OpenShift AI's dashboard pairs InferenceService and ServingRuntime one to one."""
    runtimes = pick.by_kind(default_objects, "ServingRuntime")
    assert [r["metadata"]["name"] for r in runtimes] == list(model_names)
    for isvc in pick.by_kind(default_objects, "InferenceService"):
        name = isvc["metadata"]["name"]
        assert isvc["metadata"]["labels"]["opendatahub.io/dashboard"] == "true"
        runtime = pick.one(default_objects, "ServingRuntime", name)
        assert isvc["spec"]["predictor"]["model"]["runtime"] == name
        assert runtime["metadata"]["labels"]["opendatahub.io/dashboard"] == "true"
        assert _served_by(runtime) == name  # each pod loads only its own model
        # none claims InferenceServices that do not name it
        assert runtime["spec"]["supportedModelFormats"][0]["autoSelect"] is False

    # pick.runtime's premise: the runtimes differ only in name, display name and served model
    def normalised(runtime: dict[str, Any]) -> str:
        text = json.dumps(runtime, sort_keys=True)
        return text.replace(json.dumps(runtime["metadata"]["name"]), '"X"').replace(
            f"metrics-ai {runtime['metadata']['name']}", "metrics-ai X"
        )

    assert len({normalised(r) for r in runtimes}) == 1


def test_without_the_dashboard_label_one_shared_runtime_loads_the_named_model(render: Any, pick: Any) -> None:
    # Helm merges maps: a default label is removed by setting it to null ("false" works too)
    objects = render({"predictor": {"inferenceServiceLabels": {"opendatahub.io/dashboard": None}}})
    runtime = pick.one(objects, "ServingRuntime")
    assert "opendatahub.io/dashboard" not in runtime["metadata"]["labels"]
    assert runtime["spec"]["supportedModelFormats"][0]["autoSelect"] is True
    for isvc in pick.by_kind(objects, "InferenceService"):
        assert isvc["spec"]["predictor"]["model"]["runtime"] == runtime["metadata"]["name"]
    # KServe renders {{.Name}} as the InferenceService's name, which is the model's
    assert _runtime_args(runtime) == [
        "python", "-m", "serving", "--model-dir", "/mnt/models", "--http-port", "8080",
        "--grpc-port", "8081", "--models", "{{.Name}}",
    ]  # fmt: skip


def test_runtime_serves_v1_v2_and_grpc_v2(default_objects: list[dict[str, Any]], pick: Any) -> None:
    for runtime in pick.by_kind(default_objects, "ServingRuntime"):
        spec = runtime["spec"]
        (container,) = spec["containers"]
        assert container["name"] == "kserve-container"
        # the server is ready only while every model it serves is (issue 18: one probe for both installs)
        assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8080}
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http1": 8080, "h2c": 8081}
        args = _runtime_args(runtime)
        assert args[args.index("--grpc-port") + 1] == str(ports["h2c"])  # grpc-v2 is really served
        assert spec["protocolVersions"] == ["v1", "v2", "grpc-v2"]
        assert spec["annotations"] == {
            "prometheus.kserve.io/port": "8080",
            "prometheus.kserve.io/path": "/metrics",
        }


def test_a_disabled_model_gets_no_inference_service(render: Any, pick: Any) -> None:
    objects = render({"models": {"disk-eta": {"enabled": False}}})
    names = [i["metadata"]["name"] for i in pick.by_kind(objects, "InferenceService")]
    assert "disk-eta" not in names and len(names) == 4


def test_combined_mode_serves_every_enabled_model_from_one_service(render: Any, pick: Any) -> None:
    objects = render({"combined": {"enabled": True}, "models": {"io-crisis": {"enabled": False}}})
    isvc = pick.one(objects, "InferenceService")
    assert isvc["metadata"]["name"] == "metrics-ai"
    assert isvc["spec"]["predictor"]["model"]["resources"]["limits"]["memory"] == "4Gi"
    (container,) = pick.runtime(objects)["spec"]["containers"]
    assert container["args"][-2:] == [
        "--models",
        "anomaly-detector,node-outliers,resource-forecast,disk-eta",
    ]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"  # all four, not the first


def test_per_model_resources_override_the_default(render: Any, pick: Any) -> None:
    big = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "3Gi"}}
    objects = render({"models": {"resource-forecast": {"enabled": True, "resources": big}}})
    forecast = pick.one(objects, "InferenceService", "resource-forecast")
    assert forecast["spec"]["predictor"]["model"]["resources"] == big
    disk = pick.one(objects, "InferenceService", "disk-eta")
    assert disk["spec"]["predictor"]["model"]["resources"]["limits"]["memory"] == "1Gi"


def test_serverless_mode_declares_a_single_knative_port(render: Any, pick: Any) -> None:
    objects = render({"predictor": {"deploymentMode": "Serverless"}})
    (container,) = pick.runtime(objects)["spec"]["containers"]
    assert [p["name"] for p in container["ports"]] == ["http1"]


# ---------------------------------------------------------------- storage


def test_models_pvc_is_read_write_many_and_kept(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    pvc = pick.one(default_objects, "PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_existing_claim_is_used_everywhere(render: Any, pick: Any) -> None:
    objects = render({"persistence": {"existingClaim": "shared-models"}})
    assert not pick.by_kind(objects, "PersistentVolumeClaim")
    for isvc in pick.by_kind(objects, "InferenceService"):
        assert isvc["spec"]["predictor"]["model"]["storageUri"] == "pvc://shared-models/"
    cron = pick.one(objects, "CronJob")
    volumes = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "shared-models"}} in volumes


# ---------------------------------------------------------------- training


def _train_pod(cron: dict[str, Any]) -> dict[str, Any]:
    return cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container["env"]}


def test_weekly_retrain_cronjob(default_objects: list[dict[str, Any]], pick: Any) -> None:
    cron = pick.one(default_objects, "CronJob", "metrics-ai-train")
    spec = cron["spec"]
    assert spec["schedule"] == "0 2 * * 0"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 5)
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0
    pod = _train_pod(cron)
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["command"] + container["args"][:5] == [
        "python", "-m", "training", "run", "--out", "/mnt/models", "--models", "all",
    ]  # fmt: skip
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert not mounts["/mnt/models"].get("readOnly", False)
    assert "nvidia.com/gpu" not in container["resources"]["limits"]


def test_training_reads_thanos_with_token_and_service_ca(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    cron = pick.one(default_objects, "CronJob", "metrics-ai-train")
    pod = _train_pod(cron)
    (container,) = pod["containers"]
    env = _env(container)
    assert env["DATA_SOURCE"] == "hybrid"  # the decision record's choice (docs/openshift.md)
    assert env["PROMETHEUS_URL"] == "https://thanos-querier.openshift-monitoring.svc:9091"
    assert (env["TRAINING_DAYS"], env["ANOMALY_RATE"]) == ("7", "0.03")
    assert env["PROMETHEUS_TOKEN_FILE"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    assert pod["automountServiceAccountToken"] is True
    # the CA file lies in the mounted ConfigMap that OpenShift fills with the service CA
    ca_dir, ca_key = env["PROMETHEUS_CA_FILE"].rsplit("/", 1)
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == ca_dir)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    configmap = pick.one(default_objects, "ConfigMap", volume["configMap"]["name"])
    assert (
        configmap["metadata"]["annotations"]["service.beta.openshift.io/inject-cabundle"] == "true"
    )
    assert ca_key == "service-ca.crt" and "data" not in configmap
    # and the pod's service account may read cluster metrics, nothing more
    binding = pick.one(default_objects, "ClusterRoleBinding")
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert binding["roleRef"]["name"] == "cluster-monitoring-view"
    assert {
        "kind": "ServiceAccount",
        "name": pod["serviceAccountName"],
        "namespace": "metrics-ai",
    } in binding["subjects"]
    assert not pick.by_kind(default_objects, "ClusterRole") and not pick.by_kind(
        default_objects, "Role"
    )


def test_gpu_request_when_enabled(render: Any, pick: Any) -> None:
    objects = render({"train": {"gpu": {"enabled": True, "count": 2}}, "update": {"enabled": True}})
    train = _train_pod(pick.one(objects, "CronJob", "metrics-ai-train"))
    resources = train["containers"][0]["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == "2"
    assert any(t["key"] == "nvidia.com/gpu" for t in train["tolerations"])
    update = _train_pod(pick.one(objects, "CronJob", "metrics-ai-update"))
    assert "nvidia.com/gpu" not in update["containers"][0]["resources"]["limits"]


def test_update_cronjob_and_ray_address(
    render: Any, pick: Any, default_objects: list[dict[str, Any]]
) -> None:
    assert [c["metadata"]["name"] for c in pick.by_kind(default_objects, "CronJob")] == [
        "metrics-ai-train"
    ]
    default_train = _train_pod(pick.one(default_objects, "CronJob", "metrics-ai-train"))
    assert "RAY_ADDRESS" not in _env(default_train["containers"][0])
    ray = "ray://raycluster-head-svc.ray.svc:10001"
    objects = render({"update": {"enabled": True}, "ray": {"address": ray}})
    update = pick.one(objects, "CronJob", "metrics-ai-update")
    assert update["spec"]["schedule"] == "30 * * * *"
    assert update["spec"]["concurrencyPolicy"] == "Forbid"
    assert update["spec"]["suspend"] is False
    (container,) = _train_pod(update)["containers"]
    assert container["args"] == [
        "update", "--out", "/mnt/models", "--models", "all", "--profile", "demo",
    ]  # fmt: skip
    assert _env(container)["UPDATE_DAYS"] == "2"
    for cron in pick.by_kind(objects, "CronJob"):
        assert _env(_train_pod(cron)["containers"][0])["RAY_ADDRESS"] == ray


def _train_and_update(objects: list[dict[str, Any]], pick: Any) -> tuple[dict, dict]:
    """The containers of the train and the update CronJobs."""
    train = _train_pod(pick.one(objects, "CronJob", "metrics-ai-train"))["containers"][0]
    update = _train_pod(pick.one(objects, "CronJob", "metrics-ai-update"))["containers"][0]
    return train, update


@pytest.mark.parametrize("source", ["synthetic", "hybrid"])
def test_update_reads_the_profile_the_retrain_trained(render: Any, pick: Any, source: str) -> None:
    objects = render(
        {"update": {"enabled": True}, "train": {"profile": "cluster-100", "dataSource": source}}
    )
    train, update = _train_and_update(objects, pick)
    assert update["args"] == [
        "update", "--out", "/mnt/models", "--models", "all", "--profile", "cluster-100",
    ]  # fmt: skip
    # the same options as the full retrain, only the subcommand differs
    assert train["args"] == ["run", *update["args"][1:]]
    assert _env(train)["DATA_SOURCE"] == _env(update)["DATA_SOURCE"] == source


@pytest.mark.parametrize(("days", "env"), [(0.5, "0.5"), (3, "3"), (90, "90")])
def test_update_days_is_passed_as_update_days(
    render: Any, pick: Any, days: float, env: str
) -> None:
    train, update = _train_and_update(render({"update": {"enabled": True, "days": days}}), pick)
    assert _env(update)["UPDATE_DAYS"] == env
    # the full retrain keeps reading TRAINING_DAYS and never gets the update window
    assert "UPDATE_DAYS" not in _env(train)
    assert _env(update)["TRAINING_DAYS"] == _env(train)["TRAINING_DAYS"] == "7"


@pytest.mark.parametrize("train_suspend", [False, True])
@pytest.mark.parametrize("update_suspend", [False, True])
def test_update_suspend_is_independent_of_train_suspend(
    render: Any, pick: Any, train_suspend: bool, update_suspend: bool
) -> None:
    objects = render(
        {
            "train": {"suspend": train_suspend},
            "update": {"enabled": True, "suspend": update_suspend},
        }
    )
    assert pick.one(objects, "CronJob", "metrics-ai-train")["spec"]["suspend"] is train_suspend
    assert pick.one(objects, "CronJob", "metrics-ai-update")["spec"]["suspend"] is update_suspend


def test_update_default_schedule_is_off_the_retrain_minute(render: Any, pick: Any) -> None:
    objects = render({"update": {"enabled": True}})
    train = pick.one(objects, "CronJob", "metrics-ai-train")["spec"]["schedule"]
    update = pick.one(objects, "CronJob", "metrics-ai-update")["spec"]["schedule"]
    assert update == "30 * * * *"  # still hourly
    assert update.split()[0] != train.split()[0]


# ---------------------------------------------------------------- network and monitoring


def test_network_policies_select_the_pods_they_guard(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    policies = {
        p["metadata"]["name"]: p["spec"] for p in pick.by_kind(default_objects, "NetworkPolicy")
    }
    predictor = policies["metrics-ai-predictor"]
    for isvc in pick.by_kind(default_objects, "InferenceService"):
        assert selects(predictor["podSelector"], isvc["spec"]["predictor"]["labels"])
    (rule,) = predictor["ingress"]
    assert sorted(p["port"] for p in rule["ports"]) == [8080, 8081]
    sources = [f.get("namespaceSelector", {}).get("matchLabels", {}) for f in rule["from"]]
    assert {"kubernetes.io/metadata.name": "openshift-monitoring"} in sources
    assert {"podSelector": {}} not in rule["from"]  # only chosen pods (tests/chart/test_chart_access.py)
    train = policies["metrics-ai-train"]
    cron = pick.one(default_objects, "CronJob", "metrics-ai-train")
    assert selects(
        train["podSelector"], cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    )
    assert train["policyTypes"] == ["Ingress"] and train["ingress"] == []


def test_service_monitor_scrapes_the_predictor_metrics(
    default_objects: list[dict[str, Any]], pick: Any
) -> None:
    monitor = pick.one(default_objects, "ServiceMonitor", "metrics-ai-predictor")
    service = pick.one(default_objects, "Service", "metrics-ai-predictor-metrics")
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    (endpoint,) = monitor["spec"]["endpoints"]
    (port,) = service["spec"]["ports"]
    assert endpoint["port"] == port["name"] and endpoint["path"] == "/metrics"
    runtime = pick.runtime(default_objects)
    assert port["targetPort"] == int(runtime["spec"]["annotations"]["prometheus.kserve.io/port"])
    for isvc in pick.by_kind(default_objects, "InferenceService"):
        assert selects(
            {"matchLabels": service["spec"]["selector"]}, isvc["spec"]["predictor"]["labels"]
        )
    # a predictor whose model failed to load is not ready; it must still be scraped, or
    # its metrics_ai_model_ready 0 (MetricsAIModelNotReady) would never reach Prometheus
    assert service["spec"]["publishNotReadyAddresses"] is True


def test_service_monitor_can_be_switched_off(render: Any, pick: Any) -> None:
    objects = render({"serviceMonitor": {"enabled": False}, "alerting": {"enabled": False}})
    assert not pick.by_kind(objects, "ServiceMonitor") and not pick.by_kind(objects, "Service")


@pytest.mark.parametrize("enabled", [True, False])
def test_predictor_prometheus_access_is_opt_in(render: Any, pick: Any, enabled: bool) -> None:
    objects = render({"predictor": {"prometheus": {"enabled": enabled}}})
    (container,) = pick.runtime(objects)["spec"]["containers"]
    assert ("PROMETHEUS_URL" in _env(container)) is enabled
    subjects = pick.one(objects, "ClusterRoleBinding")["subjects"]
    assert any(s["name"] == "metrics-ai-predictor" for s in subjects) is enabled
    for isvc in pick.by_kind(objects, "InferenceService"):
        assert isvc["spec"]["predictor"]["automountServiceAccountToken"] is enabled


def test_cluster_name_reaches_training_updates_and_the_predictor(render: Any, pick: Any) -> None:
    """prometheus.clusterName names a Prometheus without cluster labels everywhere it is read (CLUSTER_NAME)."""
    values = {"prometheus": {"clusterName": "ocp-prod-x7k2p"}, "predictor": {"prometheus": {"enabled": True}}}
    objects = render({**values, "update": {"enabled": True}})
    containers = [_train_pod(cron)["containers"][0] for cron in pick.by_kind(objects, "CronJob")]
    containers += pick.runtime(objects)["spec"]["containers"]
    assert len(containers) >= 3  # train, update, predictor
    assert {_env(c)["CLUSTER_NAME"] for c in containers} == {"ocp-prod-x7k2p"}
    default = pick.one(render({}), "CronJob", "metrics-ai-train")
    assert _env(_train_pod(default)["containers"][0])["CLUSTER_NAME"] == "local-cluster"


def test_predictor_limits_and_model_management_reach_the_container(render: Any, pick: Any) -> None:
    (default,) = pick.runtime(render({}))["spec"]["containers"]
    env = _env(default)
    assert env["METRICS_AI_MODEL_MANAGEMENT"] == "false"
    assert env["METRICS_AI_MAX_BODY_BYTES"] == "4194304"
    assert env["METRICS_AI_HEADER_TIMEOUT"] == "10" and env["METRICS_AI_MAX_HEADER_BYTES"] == "65536"
    values = {
        "modelManagement": True,
        "limits": {
            "maxBodyBytes": 1048576,
            "maxInstances": 500,
            "maxHistoryPoints": 2000,
            "maxStringLength": 64,
            "headerTimeout": 2.5,
            "maxHeaderBytes": 32768,
        },
        "workers": {"threads": 3, "queue": 1},
    }
    (container,) = pick.runtime(render({"predictor": values}))["spec"]["containers"]
    env = _env(container)
    assert {k: env[k] for k in env if k.startswith("METRICS_AI_")} == {
        "METRICS_AI_MODEL_MANAGEMENT": "true",
        "METRICS_AI_MAX_BODY_BYTES": "1048576",
        "METRICS_AI_MAX_INSTANCES": "500",
        "METRICS_AI_MAX_HISTORY_POINTS": "2000",
        "METRICS_AI_MAX_STRING_LENGTH": "64",
        "METRICS_AI_HEADER_TIMEOUT": "2.5",
        "METRICS_AI_MAX_HEADER_BYTES": "32768",
        "METRICS_AI_PREDICT_WORKERS": "3",
        "METRICS_AI_PREDICT_QUEUE": "1",
        "METRICS_AI_SHADOW": "off",
    }
    # every name is a setting the predictor knows (load_settings rejects unknown METRICS_AI_* names)
    ours = {k.removeprefix("METRICS_AI_").lower(): v for k, v in env.items() if k.startswith("METRICS_AI_")}
    assert set(ours) <= set(Settings.model_fields)
    settings = Settings.model_validate(ours)
    assert settings.model_management and settings.max_instances == 500
    assert settings.header_timeout == 2.5 and settings.max_header_bytes == 32768
