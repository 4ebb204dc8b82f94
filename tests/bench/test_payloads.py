"""Benchmark request bodies are valid requests for the models they are sent to."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kserve import InferRequest

from bench import payloads
from metrics_ai.artifacts import ModelStore
from metrics_ai.families import FAMILIES, MODEL_NAMES, predictor_class
from metrics_ai.settings import load_settings
from serving.codec import codec_for
from tests.conftest import train_into


@pytest.fixture(scope="module")
def five_models(tmp_path_factory: pytest.TempPathFactory, tiny_frame: pd.DataFrame) -> Path:
    """All five families on slices of the tiny profile, small enough to train in seconds.

    anomaly-detector and node-outliers: its last day; disk-eta and io-crisis: one node's
    three days; resource-forecast: one node's io_wait over the last day, ARIMA only.
    """
    root = tmp_path_factory.mktemp("bench-models")
    settings = load_settings(forecast_components="arima", workers=1)
    day = tiny_frame[tiny_frame["timestamp"] > tiny_frame["timestamp"].max() - pd.Timedelta("1D")]
    node = sorted(tiny_frame["node"].astype(str).unique())[-1]
    one_node = tiny_frame[tiny_frame["node"].astype(str) == node]
    one_day_io = day[(day["node"].astype(str) == node) & (day["signal"].astype(str) == "io_wait")]
    train_into(root, day, settings, ["anomaly-detector", "node-outliers"])
    train_into(root, one_node, settings, ["disk-eta", "io-crisis"])
    return train_into(root, one_day_io, settings, ["resource-forecast"])


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_v1_and_v2_bodies_are_answered(five_models: Path, model: str) -> None:
    manifest, folder = ModelStore(five_models, model).verify()
    predictor = predictor_class(model).load(folder, manifest)
    smoke = payloads.smoke_instances(five_models, model)
    one, many = payloads.single(smoke), payloads.batch(smoke, 7)
    assert len(one) == 1 and len(many) == 7
    codec = codec_for(FAMILIES[model], predictor)
    assert len(codec.v1(payloads.v1_body(many)["instances"]).predictions) == 7
    if model not in ("anomaly-detector", "node-outliers"):
        assert one[0].get("history"), "single = the full request path, with history"
    for instances in (one, many):
        raw = json.dumps(payloads.v2_body(model, instances)).encode()
        request = InferRequest.from_bytes(raw, len(raw), model)  # as KServe's REST endpoint parses it
        outputs = codec.v2(request, None).outputs
        rows = next(iter(outputs.values())).shape[0]
        expected = len(instances) if model in ("anomaly-detector", "node-outliers") else sum(
            1 for i in instances if i.get("history")) or len(instances)
        assert rows == expected


def test_v2_histories_keep_their_latest_points() -> None:
    a = {"node": "n", "signal": "io_wait", "history": {"timestamps": [1, 2, 3, 4], "values": [1.0, 2.0, 3.0, 4.0]}}
    b = {"node": "m", "signal": "io_wait", "history": {"timestamps": [3, 4], "values": [5.0, 6.0]}}
    body = {t["name"]: t for t in payloads.v2_body("io-crisis", [a, b, {"node": "x", "signal": "io_wait"}])["inputs"]}
    assert body["entity"]["data"] == ["n", "m"]
    assert body["timestamps"]["shape"] == [2, 2]
    assert np.asarray(body["values"]["data"]).tolist() == [[3.0, 4.0], [5.0, 6.0]]
