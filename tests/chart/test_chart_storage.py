"""Model storage choices: ReadWriteMany, ReadWriteOnce (co-located pods) and S3 (a data connection)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from metrics_ai.artifacts import ModelStore
from metrics_ai.s3store import Pulled, S3Location, S3Mirror
from metrics_ai.s3sync import app
from tests.chart.conftest import CHART_DIR, load_values, pod_spec, selects
from tests.metrics_ai.test_s3store import publish_real

HOSTNAME = "kubernetes.io/hostname"
S3 = {
    "s3": {
        "enabled": True,
        "uri": "s3://models/metrics-ai/",
        "endpoint": "http://minio.minio.svc:9000",
        "region": "eu-west-1",
        "accessKeyId": "AKIAEXAMPLE",
        "secretAccessKey": "secret",
    },
    "update": {"enabled": True},
}


def _required_pod_affinity(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec.get("affinity", {}).get("podAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", [])


def _train_container(cron: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(cron)["containers"]
    return container


# ---------------------------------------------------------------- ReadWriteOnce


def test_read_write_many_places_pods_anywhere(default_objects: list[dict[str, Any]], pick: Any) -> None:
    for cron in pick.by_kind(default_objects, "CronJob"):
        assert not _required_pod_affinity(pod_spec(cron))
    for isvc in pick.by_kind(default_objects, "InferenceService"):
        assert not _required_pod_affinity(isvc["spec"]["predictor"])


def test_read_write_once_puts_the_writers_on_the_predictor_pods_node(render: Any, pick: Any) -> None:
    objects = render(load_values(CHART_DIR / "ci" / "rwo-values.yaml"))
    pvc = pick.one(objects, "PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"] and pvc["spec"]["storageClassName"] == "gp3-csi"
    isvc = pick.one(objects, "InferenceService")  # combined: one predictor pod holds the volume
    predictor = isvc["spec"]["predictor"]
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert predictor["minReplicas"] >= 1
    pod_labels = predictor["labels"]
    # its own replicas and rollouts stay on the node the volume is attached to
    (own,) = _required_pod_affinity(predictor)
    assert own["topologyKey"] == HOSTNAME and selects(own["labelSelector"], pod_labels)
    crons = pick.by_kind(objects, "CronJob")
    assert [c["metadata"]["name"] for c in crons] == ["metrics-ai-train", "metrics-ai-update"]
    for cron in crons:
        (term,) = _required_pod_affinity(pod_spec(cron))
        assert term["topologyKey"] == HOSTNAME and selects(term["labelSelector"], pod_labels)
        # and the training pods themselves are not what they follow
        assert not selects(term["labelSelector"], cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"])
        volumes = {v["name"]: v for v in pod_spec(cron)["volumes"]}
        assert volumes["models"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]


def test_read_write_once_keeps_the_users_affinity(render: Any, pick: Any) -> None:
    node = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "node-role.kubernetes.io/infra", "operator": "DoesNotExist"}]}
    ]}}}  # fmt: skip
    spread = {"labelSelector": {"matchLabels": {"team": "x"}}, "topologyKey": "topology.kubernetes.io/zone"}
    values = {
        "combined": {"enabled": True},
        "persistence": {"existingClaim": "gp3-models", "accessModes": ["ReadWriteOnce"]},
        "train": {"affinity": {**node, "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [spread]}}},
    }
    objects = render(values)
    spec = pod_spec(pick.one(objects, "CronJob"))
    assert spec["affinity"]["nodeAffinity"] == node["nodeAffinity"]
    terms = _required_pod_affinity(spec)
    assert terms[0] == spread and terms[1]["topologyKey"] == HOSTNAME and len(terms) == 2


# ---------------------------------------------------------------- S3


def test_s3_models_come_from_the_bucket_through_a_data_connection(render: Any, pick: Any) -> None:
    objects = render(S3)
    assert not pick.by_kind(objects, "PersistentVolumeClaim")
    for isvc in pick.by_kind(objects, "InferenceService"):
        assert isvc["spec"]["predictor"]["model"]["storageUri"] == "s3://models/metrics-ai"
    secret = pick.one(objects, "Secret", "aws-connection-metrics-ai")
    # an OpenShift AI data connection ...
    assert secret["metadata"]["labels"]["opendatahub.io/dashboard"] == "true"
    assert secret["metadata"]["annotations"]["opendatahub.io/connection-type"] == "s3"
    assert secret["stringData"] == {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_S3_ENDPOINT": "http://minio.minio.svc:9000",
        "AWS_S3_BUCKET": "models",
    }
    # ... that KServe's storage initializer can use: listed on the predictor ServiceAccount,
    # endpoint as host:port with https off for an http:// endpoint
    kserve = {
        "serving.kserve.io/s3-endpoint": "minio.minio.svc:9000",
        "serving.kserve.io/s3-usehttps": "0",
        "serving.kserve.io/s3-region": "eu-west-1",
    }
    assert kserve.items() <= secret["metadata"]["annotations"].items()
    account = pick.one(objects, "ServiceAccount", "metrics-ai-predictor")
    assert account["secrets"] == [{"name": "aws-connection-metrics-ai"}]
    assert kserve.items() <= account["metadata"]["annotations"].items()
    for isvc in pick.by_kind(objects, "InferenceService"):
        assert isvc["spec"]["predictor"]["serviceAccountName"] == "metrics-ai-predictor"
    assert "secrets" not in pick.one(objects, "ServiceAccount", "metrics-ai-train")


def test_s3_training_pulls_trains_in_an_emptydir_and_pushes(render: Any, pick: Any) -> None:
    objects = render(S3)
    for cron in pick.by_kind(objects, "CronJob"):
        container = _train_container(cron)
        command, args = container["command"], container["args"]
        assert command == [
            "python", "-m", "metrics_ai.s3sync", "run", "--remote", "s3://models/metrics-ai",
            "--local", "/mnt/models", "--", "python", "-m", "training",
        ]  # fmt: skip
        # the wrapper's local root is where the training command writes and the volume is
        assert args[args.index("--out") + 1] == "/mnt/models"
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/mnt/models")
        volume = next(v for v in pod_spec(cron)["volumes"] if v["name"] == mount["name"])
        assert volume == {"name": "models", "emptyDir": {"sizeLimit": "5Gi"}}
        assert container["envFrom"] == [{"secretRef": {"name": "aws-connection-metrics-ai"}}]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["AWS_S3_ENDPOINT"] == "http://minio.minio.svc:9000" and env["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_an_existing_data_connection_is_used_as_is(render: Any, pick: Any) -> None:
    values = {"s3": {"enabled": True, "uri": "s3://models/metrics-ai", "dataConnection": "aws-connection-models"}}
    objects = render(values)
    assert not pick.by_kind(objects, "Secret")
    assert pick.one(objects, "ServiceAccount", "metrics-ai-predictor")["secrets"] == [{"name": "aws-connection-models"}]
    container = _train_container(pick.one(objects, "CronJob"))
    assert container["envFrom"] == [{"secretRef": {"name": "aws-connection-models"}}]
    assert "AWS_S3_ENDPOINT" not in {e["name"] for e in container["env"]}  # the data connection's own


def test_the_rendered_s3_command_publishes_and_rolls_back_on_s3(
    render: Any, pick: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, basic_models: Path
) -> None:
    """The CronJob's wrapper, run as rendered (S3 in process), around `training versions` and `rollback`."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_S3_ENDPOINT", raising=False)
    command = _train_container(pick.by_kind(render(S3), "CronJob")[0])["command"]
    local = tmp_path / "pod"
    wrapper = [str(local) if a == "/mnt/models" else a for a in command[3 : command.index("--") + 1]]
    training = [sys.executable if a == "python" else a for a in command[command.index("--") + 1 :]]
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="models")
        seed = tmp_path / "seed"
        first, second = publish_real(seed, basic_models), publish_real(seed, basic_models)
        location = S3Location.parse("s3://models/metrics-ai")
        S3Mirror(boto3.client("s3", region_name="us-east-1"), location).push(seed, Pulled())
        model = ["--out", str(local), "--model", "anomaly-detector"]
        listed = CliRunner().invoke(app, [*wrapper, *training, "versions", *model])
        assert listed.exit_code == 0, listed.output
        rolled = CliRunner().invoke(app, [*wrapper, *training, "rollback", *model])
        assert rolled.exit_code == 0, rolled.output
        after = tmp_path / "after"
        S3Mirror(boto3.client("s3", region_name="us-east-1"), location).pull(after)
    assert ModelStore(after, "anomaly-detector").current_version() == first != second


def test_s3_notes_say_how_rollback_and_new_versions_reach_the_predictors(render_raw: Any) -> None:
    notes = render_raw(S3)["metrics-ai/templates/NOTES.txt"]
    assert (
        "oc -n metrics-ai debug job/manual-1 -- python -m metrics_ai.s3sync run --remote s3://models/metrics-ai "
        "--local /mnt/models -- python -m training rollback --out /mnt/models --model NAME"
    ) in notes
    assert "oc -n metrics-ai rollout restart deployment/io-crisis-predictor" in notes  # no hot reload from S3
    assert "PVC" not in notes
