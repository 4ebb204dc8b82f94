"""The store's approval steps: pending versions, approve, decline, and pruning that spares them."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics_ai.artifacts import ModelStore
from metrics_ai.errors import ArtifactError
from metrics_ai.history import Event
from tests.metrics_ai.test_artifacts import publish


def _store_with_current(tmp_path: Path) -> tuple[ModelStore, str]:
    store = ModelStore(tmp_path, "m")
    first = publish(store, "first")
    store.promote(first)
    return store, first


def test_pending_waits_then_approve_switches_and_records_who(tmp_path: Path) -> None:
    store, first = _store_with_current(tmp_path)
    second = publish(store, "second")
    store.hold(second)
    assert store.current_version() == first  # pending is not current
    assert store.awaiting_approval() == [second]
    target, previous = store.approve(None, by="alice")
    assert (target, previous) == (second, first)
    assert store.current_version() == second and store.awaiting_approval() == []
    last = store.history()[-1]
    assert (last.event, last.version, last.by, last.previous) == (Event.approved, second, "alice", first)
    assert last.time  # when
    # an approved version was current: a rollback goes back to it and from it
    assert store.rollback() == (first, second)


def test_decline_records_reason_and_who_and_keeps_current(tmp_path: Path) -> None:
    store, first = _store_with_current(tmp_path)
    second = publish(store, "second")
    store.hold(second)
    assert store.decline(None, "drifts on node-7", by="bob") == second
    assert store.current_version() == first and store.awaiting_approval() == []
    assert store.rejected() == {second: "drifts on node-7"}
    assert store.history()[-1].by == "bob"
    with pytest.raises(ArtifactError, match="no version awaits approval"):
        store.approve(None, by="bob")
    with pytest.raises(ArtifactError, match="does not await approval"):
        store.approve(second, by="bob")  # rejected is final
    with pytest.raises(ArtifactError, match="does not await approval"):
        store.decline(first, "x", by="bob")  # the current version is not pending


def test_approving_one_supersedes_older_pending_versions(tmp_path: Path) -> None:
    store, _ = _store_with_current(tmp_path)
    older, newer = publish(store, "a"), publish(store, "b")
    store.hold(older)
    store.hold(newer)
    assert store.awaiting_approval() == [older, newer]
    assert store.approve(older, by="carol")[0] == older
    assert store.awaiting_approval() == [newer]
    assert store.approve(None, by="carol")[0] == newer
    assert store.awaiting_approval() == []  # `older` is now behind the current one


def test_prune_never_removes_a_version_awaiting_approval(tmp_path: Path) -> None:
    store, first = _store_with_current(tmp_path)
    pending = publish(store, "pending")
    store.hold(pending)
    later = [publish(store, f"later-{i}") for i in range(4)]
    for version in later:
        store.reject(version, "quality gate: worse")
    doomed = store.prune(keep=1)
    assert pending in store.versions() and first in store.versions()
    assert pending not in doomed
    store.approve(pending, by="dave")
    store.hold(newest := publish(store, "newest"))
    store.prune(keep=1)
    assert set(store.versions()) >= {pending, newest}
