"""What a reload failure was, and which version to fall back to when nothing is loaded."""

from __future__ import annotations

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import ArtifactError

#: ``metrics_ai_reload_failures_total``'s ``reason`` for a version that verified but did not load or answer
LOAD = "load"
#: ``reason`` for a read that hung past RELOAD_TIMEOUT
TIMEOUT = "timeout"


def failure_reason(exc: BaseException) -> str:
    """The metric's ``reason`` for a failure: manifest, missing, checksum, timeout or load."""
    if isinstance(exc, ArtifactError):
        return exc.reason if exc.reason != "artifact" else LOAD
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    return LOAD


def fallback_candidates(store: ModelStore, exclude: str | None) -> list[str]:
    """Versions to try when the current one cannot be served and nothing is loaded.

    Only versions that have been current (passed the smoke test and the gate), the most
    recently current first; never a rejected or orphaned one. ``exclude``: the version that
    just failed.
    """
    on_disk = set(store.versions())
    return [v for v in reversed(store.served_versions()) if v != exclude and v in on_disk]
