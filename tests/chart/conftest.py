"""Fixtures for the Helm chart and image tests: the real Helm engine, rendered objects, schemas."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from metrics_ai.families import MODEL_NAMES

REPO = Path(__file__).resolve().parents[2]
CHART_DIR = REPO / "charts" / "metrics-ai"
CI_FILES = sorted((CHART_DIR / "ci").glob("*.yaml"))
CRD_DIR = Path(__file__).parent / "crds"
#: Kubernetes version the manifests are validated against (OpenShift 4.20 runs 1.33).
KUBE_VERSION = "1.33"
MODELS = MODEL_NAMES
RELEASE, NAMESPACE = "metrics-ai", "metrics-ai"

Render = Callable[..., list[dict[str, Any]]]
#: (who, pod-level spec or None, containers)
PodShape = tuple[str, dict[str, Any] | None, list[dict[str, Any]]]


def load_values(path: Path) -> dict[str, Any]:
    """A values file as a dict (an empty file is `{}`)."""
    return yaml.safe_load(path.read_text()) or {}


@pytest.fixture(scope="session")
def chart() -> Iterator[helm.Chart]:
    """The chart, loaded once by the Helm engine bundled in helm-python-sdk."""
    with helm.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def render_raw(chart: helm.Chart) -> Callable[..., dict[str, str]]:
    """Render like `helm template` (schema checked first): template path -> text."""

    def _render(values: dict[str, Any] | None = None, name: str = RELEASE) -> dict[str, str]:
        return chart.render(values or {}, name=name, namespace=NAMESPACE, is_install=True)

    return _render


@pytest.fixture(scope="session")
def render(render_raw: Callable[..., dict[str, str]]) -> Render:
    """Render and parse: every Kubernetes object the chart would apply, NOTES excluded."""

    def _render(values: dict[str, Any] | None = None, name: str = RELEASE) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = []
        for path, text in sorted(render_raw(values, name).items()):
            if path.endswith("NOTES.txt"):
                continue
            objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
        return objects

    return _render


@pytest.fixture(scope="session")
def default_objects(render: Render) -> list[dict[str, Any]]:
    """The objects of a default install."""
    return render()


@pytest.fixture(scope="session")
def crd_validators() -> dict[str, Draft202012Validator]:
    """Validators for the custom resources, keyed by kind.

    The schemas under crds/ cover the fields the chart uses and reference the Kubernetes
    core/v1 definitions that kubernetes-validate ships, so containers, volumes and
    security contexts inside a custom resource are checked as strictly as in a Pod.
    """
    defs_file = resources.files("kubernetes_validate").joinpath(
        f"kubernetes-json-schema/v{KUBE_VERSION}.0-local-strict/_definitions.json"
    )
    definitions = json.loads(defs_file.read_text())
    registry = Registry().with_resource(definitions["$id"], Resource.from_contents(definitions))
    validators = {}
    for path in sorted(CRD_DIR.glob("*.json")):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        validators[schema["properties"]["kind"]["const"]] = Draft202012Validator(
            schema, registry=registry
        )
    return validators


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that asks for `ci_file` once per values file under charts/metrics-ai/ci/."""
    if "ci_file" in metafunc.fixturenames:
        metafunc.parametrize("ci_file", CI_FILES, ids=[p.stem for p in CI_FILES])


@pytest.fixture(scope="session")
def ci_files() -> list[Path]:
    """Every values file under ci/ (the test contract: there are at least four)."""
    return CI_FILES


@pytest.fixture()
def ci_objects(render: Render, ci_file: Path) -> list[dict[str, Any]]:
    """The objects rendered with one ci/ values file."""
    return render(load_values(ci_file))


@pytest.fixture(scope="session")
def model_names() -> tuple[str, ...]:
    """The five served models, in the chart's order."""
    return MODELS


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a CronJob or a Deployment."""
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics: matchLabels and In/NotIn/Exists/DoesNotExist."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value, values = labels.get(expr["key"]), expr.get("values", [])
        ok = {
            "In": value in values,
            "NotIn": value not in values,
            "Exists": value is not None,
            "DoesNotExist": value is None,
        }[expr["operator"]]
        if not ok:
            return False
    return True


class Pick:
    """Lookups over rendered objects."""

    @staticmethod
    def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
        """Objects of one kind, in render order."""
        return [o for o in objects if o["kind"] == kind]

    @staticmethod
    def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
        """The single object of a kind (and name), failing clearly otherwise."""
        found = [
            o for o in Pick.by_kind(objects, kind) if name is None or o["metadata"]["name"] == name
        ]
        names = [o["metadata"]["name"] for o in found]
        assert len(found) == 1, f"expected one {kind} {name or ''}, got {names}"
        return found[0]

    @staticmethod
    def runtime(objects: list[dict[str, Any]]) -> dict[str, Any]:
        """The ServingRuntime of the first InferenceService.

        With the dashboard label (the default) each InferenceService has its own; they differ
        only in name, display name and the model they serve (test_chart_openshift checks that).
        """
        isvc = Pick.by_kind(objects, "InferenceService")[0]
        return Pick.one(objects, "ServingRuntime", isvc["spec"]["predictor"]["model"]["runtime"])

    @staticmethod
    def pods(objects: list[dict[str, Any]]) -> list[PodShape]:
        """Every pod shape the chart defines, as (who, pod-level spec, containers).

        CronJob and Deployment pod templates; Pods (the `helm test` hook); the ServingRuntimes'
        containers (KServe merges them into each predictor pod); each InferenceService's
        predictor (pod-level fields) with its `model` (container fields KServe merges into
        kserve-container).
        """
        pods: list[PodShape] = []
        for obj in objects:
            who = f"{obj['kind']}/{obj['metadata']['name']}"
            if obj["kind"] in ("CronJob", "Deployment"):
                spec = pod_spec(obj)
                pods.append((who, spec, spec["containers"] + spec.get("initContainers", [])))
            elif obj["kind"] == "Pod":
                pods.append((who, obj["spec"], obj["spec"]["containers"]))
            elif obj["kind"] == "ServingRuntime":
                pods.append((who, None, obj["spec"]["containers"]))
            elif obj["kind"] == "InferenceService":
                predictor = obj["spec"]["predictor"]
                pods.append((who, predictor, [predictor["model"]]))
        return pods


@pytest.fixture(scope="session")
def pick() -> type[Pick]:
    """`pick.by_kind(objects, kind)`, `pick.one(objects, kind, name)`, `pick.runtime(objects)`,
    `pick.pods(objects)`."""
    return Pick
