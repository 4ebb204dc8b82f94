"""Drift references and live windows: PSI stays low without a shift, rises with one, slides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metrics_ai.drift import (
    PSI_MAJOR,
    PSI_MODERATE,
    REFERENCE_FILE,
    LiveWindow,
    build_reference,
    psi,
    read_reference,
)
from metrics_ai.drift_features import sampler_for
from metrics_ai.errors import ArtifactError
from metrics_ai.families.disk_eta import DiskEtaResponse
from metrics_ai.families.forecast.models import ForecastRequest, ForecastResponse
from metrics_ai.series import History

RNG = np.random.default_rng(7)
TRAIN = {"x": RNG.normal(0.0, 1.0, 20_000), "flag": (RNG.random(20_000) < 0.03).astype(float)}


def by_value(request: Any, _: Any) -> dict[str, np.ndarray]:
    """A sampler whose request is already the samples."""
    return request


def test_reference_bins_are_training_deciles() -> None:
    ref = build_reference(TRAIN)
    x = ref.features["x"]
    assert len(x.edges) == 9 and np.allclose(x.shares, 0.1, atol=0.002)
    assert np.allclose(x.edges, np.quantile(TRAIN["x"], np.arange(1, 10) / 10))
    flag = ref.features["flag"]  # a 0/1 feature: two bins, the share of ones in the second
    assert flag.edges == [0.0] and flag.shares[1] == pytest.approx(TRAIN["flag"].mean())


def test_too_few_samples_give_no_feature() -> None:
    assert build_reference({"x": np.arange(10.0)}).features == {}


def test_psi_reads_no_shift_moderate_and_major() -> None:
    ref = build_reference(TRAIN).features["x"]

    def psi_of(values: np.ndarray) -> float:
        return psi(np.asarray(ref.shares), np.bincount(ref.bins(values), minlength=10))

    assert psi_of(RNG.normal(0.0, 1.0, 5000)) < PSI_MODERATE
    assert PSI_MODERATE < psi_of(RNG.normal(0.4, 1.0, 5000)) < PSI_MAJOR
    assert psi_of(RNG.normal(1.0, 1.0, 5000)) > PSI_MAJOR
    assert np.isnan(psi(np.asarray(ref.shares), np.zeros(10, dtype=np.int64)))


def test_window_tracks_a_shift_and_forgets_it() -> None:
    window = LiveWindow(build_reference(TRAIN), by_value, size=2000, queue_rows=2000)
    for _ in range(10):
        window.observe({"x": RNG.normal(0.0, 1.0, 300), "flag": np.zeros(300)}, None)
    window.drain()
    assert window.samples() == 2000
    assert window.psi()["x"] < PSI_MODERATE
    for _ in range(20):  # shifted, 100 samples a request
        window.observe({"x": RNG.normal(1.5, 1.0, 100)}, None)
    window.drain()
    assert window.psi()["x"] > PSI_MAJOR
    for _ in range(25):  # back to normal: the shift slides out of the window
        window.observe({"x": RNG.normal(0.0, 1.0, 100)}, None)
        window.drain()
    assert window.psi()["x"] < PSI_MODERATE
    # the counts always describe exactly the last `size` samples
    ring = window._rings["x"]  # noqa: SLF001 - the invariant under test
    assert ring.counts.sum() == 2000 and (ring.counts == np.bincount(ring.slots, minlength=10)).all()


def test_anomaly_share_drift() -> None:
    window = LiveWindow(build_reference(TRAIN), by_value, size=1000)
    window.observe({"flag": (RNG.random(1000) < 0.03).astype(float)}, None)
    window.drain()
    assert window.psi()["flag"] < PSI_MODERATE
    window.observe({"flag": (RNG.random(1000) < 0.25).astype(float)}, None)  # eight times the anomalies
    window.drain()
    assert window.psi()["flag"] > PSI_MAJOR


def test_the_queue_holds_a_window_and_waits_for_the_next_drain() -> None:
    window = LiveWindow(build_reference(TRAIN), by_value, size=1000, queue_rows=500)
    for shift in (0.0, 0.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0):  # a queue's worth, then more before a scrape
        window.observe({"x": RNG.normal(shift, 1.0, 125)}, None)
    assert len(window._pending) == 4  # noqa: SLF001 - the bound under test
    window.drain()
    assert window.samples() == 500 and window.psi()["x"] < PSI_MODERATE
    for _ in range(8):  # after the drain, requests are sampled again
        window.observe({"x": RNG.normal(3.0, 1.0, 125)}, None)
    window.drain()
    assert window.samples() == 1000 and window.psi()["x"] > PSI_MAJOR  # half the window shifted


def test_a_request_that_cannot_be_sampled_is_skipped() -> None:
    def broken(request: Any, _: Any) -> dict[str, np.ndarray]:
        if "bad" in request:
            raise ValueError("not a request")
        return dict(request)

    window = LiveWindow(build_reference(TRAIN), broken, size=100)
    window.observe({"bad": np.zeros(3)}, None)
    window.observe({"x": RNG.normal(0.0, 1.0, 100)}, None)
    window.drain()
    assert window.samples() == 100


def test_reference_round_trip_and_only_when_listed(tmp_path: Path) -> None:
    ref = build_reference(TRAIN)
    ref.write(tmp_path / REFERENCE_FILE)
    assert read_reference(tmp_path, {REFERENCE_FILE: "sha"}) == ref
    assert read_reference(tmp_path, {}) is None  # a version published before references
    (tmp_path / REFERENCE_FILE).write_text("{}", encoding="utf-8")
    with pytest.raises(ArtifactError, match="not a drift reference"):
        read_reference(tmp_path, {REFERENCE_FILE: "sha"})


def test_forecast_families_sample_the_latest_level_of_each_history() -> None:
    forecast = sampler_for("resource-forecast", None)  # type: ignore[arg-type]  # levels need no predictor
    assert forecast is not None
    t = np.array([1.0, 2.0])
    request = ForecastRequest(
        entity=["c", "c", "d"],
        signal=["cpu", "memory", "cpu"],
        history=[History(t, np.array([0.2, 0.4])), History(t, np.array([0.5, 0.6])), None],  # d: fetched
    )
    got = forecast(request, ForecastResponse.of([], [], {}))
    assert {k: v.tolist() for k, v in got.items()} == {"cpu": [0.4], "memory": [0.6]}
    disk = sampler_for("disk-eta", None)  # type: ignore[arg-type]  # nor does disk usage
    assert disk is not None
    answered = DiskEtaResponse(
        cluster=[None, None],
        node=["n", "n"],
        mountpoint=["/", "/var"],
        current_usage=[71.5, None],  # None: too few points
        threshold=[90.0, 90.0],
        eta_days=[{"linear": None, "prophet": None, "ensemble": None}] * 2,
        severity=["OK", "OK"],
        source=["request", "request"],
        reason=[None, "too few points"],
        note=[None, None],
    )
    got = disk(request, answered)
    assert {k: v.tolist() for k, v in got.items()} == {"disk_used_pct": [71.5]}
