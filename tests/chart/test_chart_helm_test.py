"""`helm test`: the test Pod is a restricted hook, and its script predicts every model of a real predictor."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from metrics_ai.settings import Settings
from tests.chart.conftest import MODELS
from tests.conftest import Predictor, train_into

NO_PROMETHEUS = {"PROMETHEUS_URL": "", "METRICS_AI_PROMETHEUS_URL": ""}


def test_pod(objects: list[dict[str, Any]], pick: Any) -> dict[str, Any]:
    """The single helm test Pod."""
    (pod,) = [p for p in pick.by_kind(objects, "Pod") if p["metadata"]["annotations"].get("helm.sh/hook") == "test"]
    return pod


test_pod.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def script_and_targets(pod: dict[str, Any]) -> tuple[str, list[str]]:
    """(the Python script, the MODEL=URL arguments) the test container runs."""
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "-c"]
    script, *targets = container["args"]
    return script, targets


def test_the_test_pod_is_a_restricted_helm_test_hook(default_objects: list[dict[str, Any]], pick: Any) -> None:
    pod = test_pod(default_objects, pick)
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "test"
    assert pod["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == "before-hook-creation"
    assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["automountServiceAccountToken"] is False
    runtime = pick.by_kind(default_objects, "ServingRuntime")[0]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == runtime["spec"]["containers"][0]["image"]  # the serve image's Python
    _, targets = script_and_targets(pod)
    assert targets == [f"{m}=http://{m}-predictor.metrics-ai.svc.cluster.local" for m in MODELS]


def test_the_test_pod_follows_the_served_models(render: Any, pick: Any) -> None:
    objects = render({"combined": {"enabled": True, "name": "all-models"}, "models": {"disk-eta": {"enabled": False}}})
    _, targets = script_and_targets(test_pod(objects, pick))
    url = "http://all-models-predictor.metrics-ai.svc.cluster.local"
    assert targets == [f"{m}={url}" for m in MODELS if m != "disk-eta"]


@pytest.fixture(scope="module")
def five_models(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame, settings: Settings) -> Path:
    """The five models trained on the tiny profile (1 LSTM epoch)."""
    fast = settings.model_copy(update={"lstm_epochs": 1})
    return train_into(tmp_path_factory.mktemp("helm-test-models"), tiny_frame, fast, list(MODELS))


@pytest.fixture(scope="module")
def server(five_models: Path) -> Iterator[Predictor]:
    """A real predictor serving the five models, every one ready."""
    predictor = Predictor(five_models, env=NO_PROMETHEUS)
    try:
        predictor.wait_live()
        deadline = time.monotonic() + 60
        for name in MODELS:
            while predictor.client.get(f"/v1/models/{name}").json().get("ready") is not True:
                assert time.monotonic() < deadline, predictor.log.read_text()[-3000:]
                time.sleep(0.2)
        yield predictor
    finally:
        predictor.stop()


def run_script(script: str, targets: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the test container's command with this venv's Python (the serve image's packages)."""
    return subprocess.run(
        [sys.executable, "-c", script, *targets], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_the_script_predicts_every_model_of_a_real_predictor(
    server: Predictor, default_objects: list[dict[str, Any]], pick: Any
) -> None:
    script, targets = script_and_targets(test_pod(default_objects, pick))
    local = [f"{t.split('=', 1)[0]}={server.url}" for t in targets]  # the cluster URLs -> this predictor
    done = run_script(script, local)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"{m}: ok" for m in MODELS]


@pytest.mark.slow
def test_the_script_fails_naming_the_model_that_did_not_answer(
    server: Predictor, default_objects: list[dict[str, Any]], pick: Any
) -> None:
    script, _ = script_and_targets(test_pod(default_objects, pick))
    done = run_script(script, [f"anomaly-detector={server.url}", "io-crisis=http://127.0.0.1:9"])
    assert done.returncode == 1
    assert "anomaly-detector: ok" in done.stdout and "io-crisis: FAILED: no answer" in done.stdout
    assert "failed: io-crisis" in done.stderr
    # a refused request fails too: disk-eta without its mountpoint is a 400
    wrong = run_script(script.replace('"mountpoint": "/var", ', ""), [f"disk-eta={server.url}"])
    assert wrong.returncode == 1 and "disk-eta: FAILED: HTTP 400" in wrong.stdout
