"""history.jsonl survives a torn write: whole-line appends, a reader that skips and reports."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from metrics_ai.artifacts import HISTORY, DataWindow, ModelStore
from metrics_ai.history import Event


def publish(store: ModelStore, payload: str) -> str:
    with store.stage() as staging:
        (staging / "state.json").write_text(payload)
        return store.commit(staging, family="Test", data=DataWindow(source="test")).version


@pytest.fixture()
def torn(tmp_path: Path) -> tuple[ModelStore, list[str]]:
    """Two versions, each current in turn, then a line torn mid-write (a full disk)."""
    store = ModelStore(tmp_path, "m")
    first = publish(store, "one")
    store.promote(first)
    second = publish(store, "two")
    store.promote(second)
    with (store.dir / HISTORY).open("a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-11-28T20:00:00+00:00", "event": "publ')  # no newline
    return store, [first, second]


def test_a_torn_line_is_skipped_and_reported(torn, caplog: pytest.LogCaptureFixture) -> None:
    store, (first, second) = torn
    with caplog.at_level(logging.WARNING, logger="metrics_ai.history"):
        history = store.read_history()
    assert [(e.event, e.version) for e in history.entries] == [
        (Event.published, first),
        (Event.promoted, first),
        (Event.published, second),
        (Event.promoted, second),
    ]
    assert history.skipped == [5]
    assert "history.jsonl:5: skipped" in caplog.text


def test_rollback_works_past_a_torn_line_and_the_next_entry_gets_its_own_line(torn) -> None:
    store, (first, second) = torn
    assert store.rollback() == (first, second)
    lines = (store.dir / HISTORY).read_text(encoding="utf-8").splitlines()
    assert lines[4].endswith('"event": "publ')  # the fragment stays a line of its own
    assert json.loads(lines[5])["event"] == "rollback"
    history = store.read_history()
    assert history.skipped == [5] and history.entries[-1].version == first
    assert store.served_versions() == [second, first]


def test_garbage_and_unknown_events_are_skipped_not_fatal(torn) -> None:
    store, (first, second) = torn
    with (store.dir / HISTORY).open("ab") as handle:
        handle.write(b'\n\xff\xfe not json\n{"time": "t", "event": "exploded", "version": "v"}\n')
    history = store.read_history()
    assert history.skipped == [5, 6, 7]
    assert store.rejected() == {} and store.current_version() == second


def test_a_history_that_cannot_be_written_does_not_undo_or_fail_a_switch(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    first = publish(store, "one")
    (store.dir / HISTORY).unlink()
    (store.dir / HISTORY).mkdir()  # any write fails (as on a full or broken volume)
    assert store.promote(first).version == first
    assert store.current_version() == first
