"""The serve image runs the chart's ServingRuntime and answers all five models.

The combined install's runtime (one predictor, every model) is started from the serve
image: read-only root filesystem, an arbitrary UID in group 0, /tmp (the chart's emptyDir)
writable, the train image's models mounted read-only at /mnt/models as KServe mounts a
storageUri's PVC. Each model gets one V1 prediction built from its own smoke instances
(bench/payloads.py) and must answer as the library does in-process (plus the served
version); the chart's `helm test`
script runs inside the image against it too.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import payloads
from metrics_ai.artifacts import ModelStore
from metrics_ai.families import MODEL_NAMES, predictor_class
from tests.chart.conftest import Pick, Render
from tests.chart.test_chart_helm_test import script_and_targets, test_pod
from tests.conftest import free_port
from tests.images import podman, pods
from tests.images.conftest import IMAGES_TIMEOUT_S, Built, TrainRun
from tests.serving import codec_calls

pytestmark = [pytest.mark.images, pytest.mark.timeout(IMAGES_TIMEOUT_S)]

#: what only the training job needs: none of it may be in the serve image
TRAINING_ONLY = ("tensorflow", "keras", "prophet", "statsmodels", "pyarrow", "ray", "cmdstanpy")
COMBINED = {"combined": {"enabled": True}}
READY_TIMEOUT_S = 300


@dataclass(frozen=True)
class Served:
    """The predictor started from the serve image: its URL, its read-only root and its log."""

    url: str
    root: Path
    env: dict[str, str]
    workdir: str
    log: Path


def wait_ready(url: str, proc: subprocess.Popen[str], log: Path) -> None:
    """Poll /v2/health/ready until 200; fail with the log if the process exits or time runs out."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the predictor exited {proc.returncode}:\n{log.read_text()[-4000:]}"
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise AssertionError(f"not ready after {READY_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def served(
    serve_image: Built,
    train_run: TrainRun,
    model_volume: Path,
    render: Render,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """The combined ServingRuntime's container, from the serve image, until the module ends."""
    assert train_run.returncode == 0, "the train image published no models to serve"
    runtime = Pick.runtime(render(COMBINED))
    (container,) = runtime["spec"]["containers"]
    config = serve_image.config
    assert container["command"] == config.entrypoint == ["python", "-m", "serving"]
    http, grpc = free_port(), free_port()
    args = [{"8080": str(http), "8081": str(grpc)}.get(a, a) for a in container["args"]]
    scratch = tmp_path_factory.mktemp("serve-volumes")
    mounts = pods.pod_mounts(container, runtime["spec"].get("volumes", []), model_volume, scratch)
    mounts.append(podman.Mount(model_volume, "/mnt/models", read_only=True))  # KServe: the storageUri's PVC
    env, log = pods.pod_env(config, container), scratch / "predictor.log"
    with podman.container_root(config.name) as rw_layer, podman.read_only_root(rw_layer, mounts, scratch) as root:
        with log.open("w") as out:
            proc = podman.run_as(root, container["command"] + args, env, config.workdir, stdout=out, stderr=out)
        try:
            url = f"http://127.0.0.1:{http}"
            wait_ready(url, proc, log)
            yield Served(url, root, env, config.workdir, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def same_answer(served: Any, local: Any, where: str = "") -> None:
    """Equal JSON values, numbers within float noise."""
    if isinstance(local, dict):
        assert isinstance(served, dict) and served.keys() == local.keys(), f"{where}: {served} vs {local}"
        for key in local:
            same_answer(served[key], local[key], f"{where}.{key}")
    elif isinstance(local, list):
        assert isinstance(served, list) and len(served) == len(local), f"{where}: {served} vs {local}"
        for i, (a, b) in enumerate(zip(served, local, strict=True)):
            same_answer(a, b, f"{where}[{i}]")
    elif isinstance(local, float) and not isinstance(local, bool):
        assert isinstance(served, int | float) and math.isclose(served, local, rel_tol=1e-6, abs_tol=1e-9), where
    else:
        assert served == local, f"{where}: {served!r} vs {local!r}"


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_each_model_answers_a_v1_prediction(served: Served, model_volume: Path, model: str) -> None:
    instances = payloads.single(payloads.smoke_instances(model_volume, model))
    response = httpx.post(f"{served.url}/v1/models/{model}:predict", json=payloads.v1_body(instances), timeout=60)
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    manifest, folder = ModelStore(model_volume, model).verify()
    local = json.loads(json.dumps(codec_calls.v1(predictor_class(model).load(folder, manifest), instances)))
    same_answer(predictions, [{**row, "model_version": manifest.version} for row in local], model)


def test_the_charts_helm_test_passes_from_the_image(served: Served, render: Render) -> None:
    pod = test_pod(render(COMBINED), Pick)
    script, targets = script_and_targets(pod)
    local = [f"{target.split('=', 1)[0]}={served.url}" for target in targets]
    done = podman.run_to_end(served.root, ["python", "-c", script, *local], served.env, served.workdir, timeout=120)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [f"{m}: ok" for m in MODEL_NAMES]


def test_no_training_only_package(served: Served) -> None:
    code = "import importlib.metadata as m, json; print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"
    done = podman.run_to_end(served.root, ["python", "-c", code], served.env, served.workdir, timeout=120)
    assert done.returncode == 0, done.stdout
    installed = {name.lower().replace("_", "-") for name in json.loads(done.stdout)}
    assert "kserve" in installed and "metrics-ai" in installed
    assert not installed & set(TRAINING_ONLY), sorted(installed & set(TRAINING_ONLY))


def test_predictor_log_has_no_error_line(served: Served) -> None:
    errors = [line for line in served.log.read_text().splitlines() if "ERROR" in line or "Traceback" in line]
    assert not errors, errors
