"""Drift through the real predictor: rows like the training data keep every PSI low; the same
rows with one metric shifted push that metric's PSI over 0.25 (and the anomaly share up),
and the shift slides out again. Read from /metrics as Prometheus scrapes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from metrics_ai.drift import PSI_MAJOR, PSI_MODERATE, QUEUE_ROWS
from metrics_ai.families.anomaly import METRIC_SIGNALS, AnomalyConfig
from metrics_ai.settings import Settings
from tests.conftest import Predictor
from training.frames import wide_by_entity

WINDOW = 2000
MODEL = "anomaly-detector"


def training_rows(frame: pd.DataFrame, settings: Settings) -> list[np.ndarray]:
    """Each entity's rows the forest was fitted on (the known no-shift), as the trainer cut them."""
    cfg = AnomalyConfig(sample_interval=settings.sample_interval)
    signals = [METRIC_SIGNALS[m] for m in cfg.metrics]
    wides = wide_by_entity(frame, signals, cfg.sample_interval, labels=("cluster", "node"))
    return [w[signals].to_numpy()[: int(len(w) * settings.train_fraction)] for w in wides.values()]


def send(predictor: Predictor, per_entity: list[np.ndarray], chunk: int = 100) -> None:
    """Every entity's consecutive rows in requests of ``chunk`` rows (interleaved, as clients would),
    with a scrape of /metrics after each round (at most QUEUE_ROWS rows are queued between scrapes)."""
    assert chunk * len(per_entity) <= QUEUE_ROWS
    longest = max(len(r) for r in per_entity)
    for start in range(0, longest, chunk):
        for rows in per_entity:
            part = rows[start : start + chunk]
            if len(part):
                r = predictor.client.post(f"/v1/models/{MODEL}:predict", json={"instances": part.tolist()})
                assert r.status_code == 200, r.text
        assert predictor.client.get("/metrics").status_code == 200


def drift(predictor: Predictor) -> tuple[dict[str, float], float]:
    """(feature -> PSI, window samples) of the anomaly-detector from /metrics."""
    text = predictor.client.get("/metrics").text
    psi, samples = {}, float("nan")
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.labels.get("model") != MODEL:
                continue
            if s.name == "metrics_ai_drift_psi":
                psi[s.labels["feature"]] = s.value
            elif s.name == "metrics_ai_drift_window_samples":
                samples = s.value
    return psi, samples


def test_known_shift_fires_and_no_shift_does_not(
    basic_models: Path, tiny_frame: pd.DataFrame, settings: Settings, start_predictor: Callable[..., Predictor]
) -> None:
    predictor = start_predictor(basic_models, MODEL, env={"METRICS_AI_DRIFT_WINDOW": str(WINDOW)})
    assert drift(predictor) == ({}, 0.0)  # loaded, nothing seen yet
    rows = training_rows(tiny_frame, settings)
    assert sum(map(len, rows)) >= WINDOW

    send(predictor, rows)  # no shift
    psi, samples = drift(predictor)
    assert samples == WINDOW
    assert set(psi) == {*AnomalyConfig().metrics, "score", "anomaly"}
    assert max(psi.values()) < PSI_MODERATE, psi

    shifted = [r * np.array([1.6, 1.0, 1.0, 1.0, 1.0]) for r in rows]  # cpu_usage 60 % higher
    send(predictor, shifted)
    psi, samples = drift(predictor)
    assert samples == WINDOW
    assert psi["cpu_usage"] > PSI_MAJOR, psi
    for metric in ("memory_usage", "pod_restarts", "network_in", "network_out"):
        assert psi[metric] < PSI_MODERATE, (metric, psi)

    send(predictor, rows)  # the shift slides out of the window
    psi, _ = drift(predictor)
    assert max(psi.values()) < PSI_MODERATE, psi


def test_drift_monitoring_off(basic_models: Path, start_predictor: Callable[..., Predictor]) -> None:
    predictor = start_predictor(basic_models, MODEL, env={"METRICS_AI_DRIFT_WINDOW": "0"})
    r = predictor.client.post(f"/v1/models/{MODEL}:predict", json={"instances": [[0.3, 0.4, 0.2, 80, 60]] * 30})
    assert r.status_code == 200
    psi, samples = drift(predictor)
    assert psi == {} and np.isnan(samples)  # no window, no series


def test_v2_requests_fill_the_window_too(
    basic_models: Path, tiny_frame: pd.DataFrame, settings: Settings, start_predictor: Callable[..., Predictor]
) -> None:
    predictor = start_predictor(basic_models, MODEL, env={"METRICS_AI_DRIFT_WINDOW": "500"})
    rows = training_rows(tiny_frame, settings)[0][:500]
    body = {
        "inputs": [{"name": "metrics", "datatype": "FP32", "shape": list(rows.shape), "data": rows.ravel().tolist()}]
    }
    r = predictor.client.post(f"/v2/models/{MODEL}/infer", json=body)
    assert r.status_code == 200, r.text
    psi, samples = drift(predictor)
    assert samples == 500 and set(psi) == {*AnomalyConfig().metrics, "score", "anomaly"}
