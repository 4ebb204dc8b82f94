"""Which version a predictor falls back to, and how a reload failure is labelled."""

from __future__ import annotations

from pathlib import Path

from metrics_ai.artifacts import DataWindow, ModelStore
from metrics_ai.errors import ArtifactError, ChecksumError, ManifestError, MissingArtifactError
from serving.recovery import failure_reason, fallback_candidates


def publish(store: ModelStore, payload: str) -> str:
    with store.stage() as staging:
        (staging / "state.json").write_text(payload)
        return store.commit(staging, family="Test", data=DataWindow(source="test")).version


def test_fallback_tries_versions_that_were_current_most_recent_first_never_rejected(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    a, b, c = (publish(store, s) for s in "abc")
    for version in (a, b, c):
        store.promote(version)
    store.promote(a)  # rolled back: a was current last, then c
    rejected = publish(store, "rejected")
    store.reject(rejected, "quality gate: worse")
    orphan = publish(store, "orphan")
    assert fallback_candidates(store, exclude=a) == [c, b]
    assert fallback_candidates(store, exclude=None) == [a, c, b]
    assert rejected not in fallback_candidates(store, None) and orphan not in fallback_candidates(store, None)


def test_failure_reasons() -> None:
    assert failure_reason(ManifestError("x")) == "manifest"
    assert failure_reason(MissingArtifactError("x")) == "missing"
    assert failure_reason(ChecksumError("x")) == "checksum"
    assert failure_reason(TimeoutError("x")) == "timeout"
    assert failure_reason(ArtifactError("state unreadable")) == "load"
    assert failure_reason(ValueError("boom")) == "load"
