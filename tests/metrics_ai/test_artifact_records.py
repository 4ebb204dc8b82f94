"""Typed manifest metrics, typed history, rollback in the store, on artifacts the earlier code wrote.

``old_format/disk-eta`` was written by the store before manifests and history were typed:
a full run (current), an update published over it, a version the gate rejected, and a
rollback to the full run. Reading it, rolling it back and forth and writing to it must
keep every file's format: a manifest switched back in is byte for byte the version's own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from metrics_ai.artifacts import HISTORY, MANIFEST, ModelStore
from metrics_ai.errors import ArtifactError
from metrics_ai.history import Event
from metrics_ai.manifest import FULL_RUN_GATE, UPDATE, UpdateRecord

OLD = Path(__file__).parent / "old_format"
FULL, UPDATED, REJECTED = "20261128T204333.718117Z-d9bd", "20261128T204333.764214Z-9317", "20261128T204333.815867Z-af00"


@pytest.fixture()
def store(tmp_path: Path) -> ModelStore:
    shutil.copytree(OLD, tmp_path, dirs_exist_ok=True)
    return ModelStore(tmp_path, "disk-eta")


def test_old_manifests_read_through_typed_metrics(store: ModelStore) -> None:
    full, updated = store.verify(FULL)[0], store.verify(UPDATED)[0]
    assert store.current().version == FULL
    assert not full.is_update and full.update is None
    assert full.gate == {"disk_mae": 0.25, "alarm_rate": 0} == full.full_run_gate
    assert updated.is_update and updated.gate == {"disk_mae": 0.2, "alarm_rate": 0}
    record = updated.update
    assert isinstance(record, UpdateRecord)
    assert (record.updated, record.from_version, record.note) == (2, FULL, "trend re-estimated")
    assert record.baseline_gate == {"disk_mae": 0.3, "alarm_rate": None}
    assert record.model_extra == {"kept_fit": ["n1:/"]}  # a family's own detail survives
    assert updated.full_run_gate == full.gate  # an update is held against its full run's figures
    assert updated.metrics[UPDATE][FULL_RUN_GATE] == full.gate


def test_old_history_reads_as_typed_events(store: ModelStore) -> None:
    events = [(e.event, e.version) for e in store.history()]
    assert events == [
        (Event.published, FULL),
        (Event.published_current, FULL),
        (Event.published, UPDATED),
        (Event.published_current, UPDATED),
        (Event.published, REJECTED),
        (Event.rejected, REJECTED),
        (Event.rollback, FULL),
    ]
    assert store.history()[-1].previous == UPDATED
    assert store.rejected() == {REJECTED: "quality gate: disk_mae 9 > 0.25 x (1 + 0.1) + 0.01"}


def test_rollback_goes_back_to_the_previous_current_version_and_logs_as_before(store: ModelStore) -> None:
    before = (store.dir / HISTORY).read_text(encoding="utf-8")
    assert store.rollback() == (UPDATED, FULL)  # never to the rejected one
    assert store.current().version == UPDATED
    switched = (store.dir / MANIFEST).read_bytes()
    assert switched == (store.version_dir(UPDATED) / MANIFEST).read_bytes()  # byte for byte
    after = (store.dir / HISTORY).read_text(encoding="utf-8")
    assert after.startswith(before)
    line = json.loads(after[len(before) :])
    assert list(line) == ["time", "event", "version", "previous"]
    assert (line["event"], line["version"], line["previous"]) == ("rollback", UPDATED, FULL)
    assert store.rollback() == (FULL, UPDATED)  # and back again


def test_rollback_to_a_named_version_and_its_errors(store: ModelStore, tmp_path: Path) -> None:
    assert store.rollback(UPDATED) == (UPDATED, FULL)
    with pytest.raises(ArtifactError, match="no version 'nope'"):
        store.rollback("nope")
    with pytest.raises(ArtifactError, match="nothing published"):
        ModelStore(tmp_path, "io-crisis").rollback()
    single = ModelStore(tmp_path / "one", "disk-eta")
    shutil.copytree(store.version_dir(FULL), single.version_dir(FULL))
    single.promote(FULL)
    with pytest.raises(ArtifactError, match="no earlier version"):
        single.rollback()


def test_new_history_lines_keep_the_old_format(store: ModelStore) -> None:
    store.reject(UPDATED, "smoke test failed: boom")
    last = json.loads((store.dir / HISTORY).read_text(encoding="utf-8").splitlines()[-1])
    assert list(last) == ["time", "event", "version", "reason"]
    assert (last["event"], last["reason"]) == ("rejected", "smoke test failed: boom")


def test_malformed_records(store: ModelStore) -> None:
    with (store.dir / HISTORY).open("a", encoding="utf-8") as handle:
        handle.write('{"time": "t", "event": "exploded", "version": "v"}\n')
    history = store.read_history()  # a line that is not an entry is skipped and reported
    assert history.skipped == [8] and len(history.entries) == 7
    bad = store.current().model_copy(update={"metrics": {"gate": {"x": "high"}, "update": {"updated": "many"}}})
    with pytest.raises(ArtifactError, match="metrics.gate"):
        _ = bad.gate
    with pytest.raises(ArtifactError, match="metrics.update"):
        _ = bad.update
