"""``/v2/models/<name>/versions/<v>/...``: the version the metadata lists answers, any other is a 404.

KServe alone answers every versioned path 501 with an ERROR traceback, although the model
metadata lists the version now answering: a client that follows the metadata must get the
model, and one that asks for a version not served a 4xx naming ``model_version``.
"""

from __future__ import annotations

from pathlib import Path

from bench import payloads
from metrics_ai.artifacts import ModelStore
from tests.conftest import Predictor

MODEL = "anomaly-detector"


def test_the_listed_version_answers_as_the_unversioned_paths(basic_server: Predictor, basic_models: Path) -> None:
    client = basic_server.client
    [version] = client.get(f"/v2/models/{MODEL}").json()["versions"]
    assert version == ModelStore(basic_models, MODEL).current_version()
    base = f"/v2/models/{MODEL}/versions/{version}"

    assert client.get(base).json() == client.get(f"/v2/models/{MODEL}").json()
    ready = client.get(f"{base}/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True

    body = payloads.v2_body(MODEL, payloads.smoke_instances(basic_models, MODEL))
    versioned, plain = client.post(f"{base}/infer", json=body), client.post(f"/v2/models/{MODEL}/infer", json=body)
    assert versioned.status_code == 200, versioned.text
    assert versioned.json()["outputs"] == plain.json()["outputs"]
    assert versioned.json()["model_version"] == version


def test_a_version_not_served_is_a_404_naming_model_version(basic_server: Predictor, basic_models: Path) -> None:
    client = basic_server.client
    version = ModelStore(basic_models, MODEL).current_version()
    body = payloads.v2_body(MODEL, payloads.smoke_instances(basic_models, MODEL))
    for response in (
        client.post(f"/v2/models/{MODEL}/versions/20200101T000000.000000Z-0000/infer", json=body),
        client.get(f"/v2/models/{MODEL}/versions/older/ready"),
        client.get(f"/v2/models/{MODEL}/versions/older"),
    ):
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert error.startswith("model_version:") and f"version {version}" in error


def test_an_unknown_model_keeps_its_own_404(basic_server: Predictor) -> None:
    response = basic_server.client.get("/v2/models/no-such-model/versions/1/ready")
    assert response.status_code == 404, response.text
    assert "no-such-model" in response.text


def test_versioned_paths_log_no_traceback(basic_server: Predictor, basic_models: Path) -> None:
    version = ModelStore(basic_models, MODEL).current_version()
    basic_server.client.get(f"/v2/models/{MODEL}/versions/{version}/ready")
    basic_server.client.get(f"/v2/models/{MODEL}/versions/other/ready")
    log = basic_server.log.read_text()
    assert "NotImplementedError" not in log and "Traceback" not in log, log[-2000:]
