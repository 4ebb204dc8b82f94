"""The chart renders, lints clean, and every object is valid Kubernetes (or CRD) input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import helm_python as helm
import kserve.models
import kubernetes_validate
import pytest

from tests.chart.conftest import CHART_DIR, CRD_DIR, KUBE_VERSION, load_values

CUSTOM_KINDS = {"InferenceService", "ServingRuntime", "ServiceMonitor", "PrometheusRule"}


def test_ci_values_cover_the_install_variants(ci_files: list[Path]) -> None:
    names = {p.name for p in ci_files}
    assert {"default-values.yaml", "combined-values.yaml", "hybrid-values.yaml"} <= names
    ray = [load_values(p) for p in ci_files]
    assert any(v.get("ray", {}).get("address") and v.get("update", {}).get("enabled") for v in ray)


def test_lint_is_clean(ci_file: Path) -> None:
    report = helm.lint(
        CHART_DIR, load_values(ci_file), strict=True, kube_version=f"v{KUBE_VERSION}.0"
    )
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], problems or report["errors"]


def test_every_object_is_valid_kubernetes(ci_objects: list[dict[str, Any]]) -> None:
    checked = 0
    for obj in ci_objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {where}: {exc.message}")
        checked += 1
    assert checked >= 5


def test_every_custom_resource_matches_its_crd_schema(
    ci_objects: list[dict[str, Any]], crd_validators: dict[str, Any]
) -> None:
    kinds = set()
    for obj in ci_objects:
        if obj["kind"] not in CUSTOM_KINDS:
            continue
        errors = sorted(crd_validators[obj["kind"]].iter_errors(obj), key=lambda e: list(e.path))
        detail = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors]
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: {detail}"
        kinds.add(obj["kind"])
    assert {"InferenceService", "ServingRuntime"} <= kinds


def test_every_object_lives_in_the_release_namespace(ci_objects: list[dict[str, Any]]) -> None:
    for obj in ci_objects:
        labels = obj["metadata"].get("labels", {})
        if obj["kind"] == "ClusterRoleBinding":
            continue
        if labels.get("console.openshift.io/dashboard") == "true":
            # the console reads dashboards from one namespace only
            assert obj["metadata"]["namespace"] == "openshift-config-managed"
            continue
        assert obj["metadata"].get("namespace") == "metrics-ai", obj["metadata"]["name"]


@pytest.mark.parametrize(
    ("kind", "path", "bad"),
    [
        ("InferenceService", ("spec", "predictor", "model"), {"storageURI": "pvc://x/"}),
        ("InferenceService", ("spec", "predictor", "model", "modelFormat"), {"name": ""}),
        ("ServingRuntime", ("spec",), {"protocolVersions": ["v3"]}),
        ("ServingRuntime", ("spec", "containers", 0, "securityContext"), {"runAsNonRoot": "yes"}),
        ("ServiceMonitor", ("spec", "endpoints", 0), {"interval": "30 seconds"}),
    ],
)
def test_crd_schemas_reject_what_the_api_server_would(
    default_objects: list[dict[str, Any]],
    crd_validators: dict[str, Any],
    pick: Any,
    kind: str,
    path: tuple[Any, ...],
    bad: dict[str, Any],
) -> None:
    obj = json.loads(json.dumps(pick.by_kind(default_objects, kind)[0]))
    target = obj
    for key in path:
        target = target[key]
    target.update(bad)
    assert not crd_validators[kind].is_valid(obj)


def _schema_properties(schema: dict[str, Any], *path: str) -> set[str]:
    node = schema
    for key in path:
        node = node["properties"][key]
    return set(node["properties"])


@pytest.mark.parametrize(
    ("schema_file", "path", "model"),
    [
        ("servingruntime.json", ("spec",), "V1alpha1ServingRuntimeSpec"),
        ("inferenceservice.json", ("spec",), "V1beta1InferenceServiceSpec"),
        ("inferenceservice.json", ("spec", "predictor"), "V1beta1PredictorSpec"),
        ("inferenceservice.json", ("spec", "predictor", "model"), "V1beta1ModelSpec"),
    ],
)
def test_crd_schema_fields_are_real_kserve_fields(
    schema_file: str, path: tuple[str, ...], model: str
) -> None:
    """The hand-written CRD schemas only name fields KServe's own API types have."""
    schema = json.loads((CRD_DIR / schema_file).read_text())
    known = set(getattr(kserve.models, model).attribute_map.values())
    assert _schema_properties(schema, *path) <= known


def test_notes_give_the_first_calls_retrain_and_rollback(render_raw: Any) -> None:
    notes = render_raw()["metrics-ai/templates/NOTES.txt"]
    v1 = (
        "curl -X POST $URL/v1/models/anomaly-detector:predict -H 'Content-Type: application/json' "
        """-d '{"instances": [[0.5, 0.6, 0.4, 100, 80]]}'"""
    )
    assert v1 in notes
    assert re.search(
        r"curl -X POST \$URL/v2/models/anomaly-detector/infer .*\"name\": \"metrics\"", notes
    )
    assert "oc -n metrics-ai create job --from=cronjob/metrics-ai-train manual-1" in notes
    assert "python -m training rollback --out /mnt/models --model NAME" in notes
    assert "URL=http://anomaly-detector-predictor.metrics-ai.svc.cluster.local" in notes


def test_notes_in_combined_mode_point_at_the_single_service(render_raw: Any) -> None:
    notes = render_raw({"combined": {"enabled": True}})["metrics-ai/templates/NOTES.txt"]
    assert "URL=http://metrics-ai-predictor.metrics-ai.svc.cluster.local" in notes
    assert "ONE InferenceService" in notes
