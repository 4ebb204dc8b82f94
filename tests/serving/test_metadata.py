"""V2 model metadata, and every model driven from it alone with tritonclient over REST and gRPC.

The client reads ``GET /v2/models/<name>`` (gRPC ModelMetadata), builds each declared input
with the declared name, datatype and shape (``-1``: a length it picks), infers, and checks
that the outputs are exactly the declared ones, datatype and shape. Only the values come
from the test: numbers in every signal's range, a signal every history model knows, and
entity names the models have never seen (so each answers from the request's history).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient

from metrics_ai.artifacts import ModelStore
from metrics_ai.families import MODEL_NAMES
from serving.metadata import complete
from tests.conftest import REPO, Predictor
from tests.serving.conftest import NO_PROMETHEUS
from tests.serving.metadata_client import (
    ROWS,
    assert_outputs_as_declared,
    build,
    check_answer,
    check_metadata,
)


@pytest.fixture(scope="module")
def server(all_models: Path) -> Iterator[Predictor]:
    """All five models in one predictor, without Prometheus."""
    predictor = Predictor(all_models, env=NO_PROMETHEUS)
    try:
        predictor.wait_ready()
        yield predictor
    finally:
        predictor.stop()


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_rest_metadata_drives_the_model(model: str, server: Predictor, all_models: Path) -> None:
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")
    metadata = client.get_model_metadata(model)
    check_metadata(metadata, model, ModelStore(all_models, model).current().version)
    inputs = []
    for tensor in metadata["inputs"]:
        array = build(model, tensor)
        item = httpclient.InferInput(tensor["name"], list(array.shape), tensor["datatype"])
        item.set_data_from_numpy(array, binary_data=True)
        inputs.append(item)
    result = client.infer(model, inputs)
    outputs = {o["name"]: (o["datatype"], list(o["shape"])) for o in result.get_response()["outputs"]}
    check_answer(metadata["outputs"], outputs, result.as_numpy)
    client.close()


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_grpc_metadata_drives_the_model(model: str, server: Predictor, all_models: Path) -> None:
    """The same over gRPC, in a process of its own (tests/serving/metadata_client.py says why)."""
    version = ModelStore(all_models, model).current().version
    command = [sys.executable, "-m", "tests.serving.metadata_client", str(server.grpc_port), model, version]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{model}: driven over gRPC from its metadata" in done.stdout


def test_rest_binary_outputs_tell_never_from_too_few_points(server: Predictor) -> None:
    """Over REST's binary tensor extension eta_days keeps +inf (never) apart from NaN (too few points);
    outputs asked for by name come back alone, each in the form asked for; an unknown one is a 400."""
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")
    end = int(time.time()) // 300 * 300
    timestamps = np.zeros((2, 100), dtype=np.int64)
    timestamps[0] = end - 300 * np.arange(100)[::-1]
    timestamps[1, :2] = (end - 300, end)
    values = np.full((2, 100), np.nan, dtype=np.float32)
    values[0] = 20.0  # a flat disk: never full
    values[1, :2] = (50.0, 50.1)  # two points: no estimate
    inputs = []
    for name, array, datatype in (
        ("node", np.array([b"metadata-node-0", b"metadata-node-1"], dtype=object), "BYTES"),
        ("mountpoint", np.array([b"/", b"/"], dtype=object), "BYTES"),
        ("timestamps", timestamps, "INT64"),
        ("values", values, "FP32"),
    ):
        item = httpclient.InferInput(name, list(array.shape), datatype)
        item.set_data_from_numpy(array)
        inputs.append(item)
    binary = client.infer("disk-eta", inputs)
    eta = binary.as_numpy("eta_days")
    assert np.isposinf(eta[0]) and np.isnan(eta[1]), eta
    asked = [httpclient.InferRequestedOutput("eta_days", binary_data=False)]
    as_json = client.infer("disk-eta", inputs, outputs=asked).get_response()
    assert [(o["name"], o["data"]) for o in as_json["outputs"]] == [("eta_days", [None, None])]  # JSON: null for both
    with pytest.raises(Exception, match="outputs: unknown output"):
        client.infer("disk-eta", inputs, outputs=[httpclient.InferRequestedOutput("eta")])
    client.close()


def test_an_answer_off_its_declaration_fails_the_check() -> None:
    """The output check is not vacuous: a wrong datatype, a missing output, a wrong width all fail."""
    declared = [
        {"name": "score", "datatype": "FP32", "shape": [-1]},
        {"name": "f", "datatype": "FP32", "shape": [-1, 4]},
    ]
    assert_outputs_as_declared(declared, {"score": ("FP32", [ROWS]), "f": ("FP32", [ROWS, 4])})
    for wrong in (
        {"score": ("FP64", [ROWS]), "f": ("FP32", [ROWS, 4])},
        {"score": ("FP32", [ROWS])},
        {"score": ("FP32", [ROWS]), "f": ("FP32", [ROWS, 5])},
    ):
        with pytest.raises(AssertionError):
            assert_outputs_as_declared(declared, wrong)


def test_a_model_without_a_loaded_version_lists_none() -> None:
    """KServe's metadata gains the platform, and ``versions`` is empty until a version answers."""
    kserve = {"name": "disk-eta", "platform": "", "inputs": [], "outputs": []}
    assert complete(kserve, None) == {**kserve, "platform": "metrics-ai", "versions": []}
    assert complete(kserve, "v1")["versions"] == ["v1"]
