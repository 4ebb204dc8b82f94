"""A model's history (``history.jsonl``): what happened to each version, one entry a line.

The format is the one the store has always written: ``{"time", "event", "version", ...}``
with ``reason`` for a rejection, ``previous`` for a rollback or an approval and ``by`` for
a person's approval or rejection.

The file must survive a full disk or a network volume that tears a write: each entry is
appended with one ``write`` of the whole line on an ``O_APPEND`` descriptor and synced
(:func:`append_entry`), a line left without its newline by a torn write is closed before
the next entry, and :func:`read_history` skips a line that is not an entry (logged, and
counted in :attr:`History.skipped`) instead of failing every reader after it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

log = logging.getLogger(__name__)


class Event(StrEnum):
    """What happened to a version (``history.jsonl``'s ``event``)."""

    published = "published"
    """Written completely into ``versions/`` (not yet current)."""
    published_current = "published-current"
    """Passed the smoke test and the gate, and became current."""
    promoted = "promoted"
    """Made current by a caller of the store."""
    rejected = "rejected"
    """Failed the smoke test or the gate; stays on disk, never current."""
    rollback = "rollback"
    """Made current again by a rollback."""
    pending = "pending"
    """Passed the smoke test and the gate with APPROVAL=manual: waits for a person."""
    approved = "approved"
    """A pending version a person made current (``python -m training approve``)."""


#: events that settle a pending version (a person's reject is a ``rejected`` event with ``by``)
DECISION_EVENTS = frozenset({Event.approved, Event.rejected})


#: events after which a version was the current one (what a rollback may go back to)
CURRENT_EVENTS = frozenset({Event.published_current, Event.promoted, Event.rollback, Event.approved})


class HistoryEntry(BaseModel):
    """One line of ``history.jsonl``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    time: str
    """When, ISO 8601 in UTC (as written)."""
    event: Event
    version: str
    reason: str | None = None
    """Why a version was rejected."""
    previous: str | None = None
    """The version that was current before a rollback or an approval."""
    by: str | None = None
    """Who approved or rejected a pending version (:attr:`metrics_ai.settings.Settings.approver`)."""

    def line(self) -> dict[str, Any]:
        """The JSON object written for this entry (the fields set, in the written order)."""
        return self.model_dump(mode="json", exclude_unset=True)


@dataclass(frozen=True)
class History:
    """What :func:`read_history` read: the entries, oldest first, and the lines it skipped."""

    entries: list[HistoryEntry] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    """Numbers (1-based) of the lines that were not history entries (torn, garbage)."""


def read_history(path: Path) -> History:
    """Read ``history.jsonl``, skipping (and logging) every line that is not an entry.

    Raises:
        OSError: the file exists but cannot be read.
    """
    if not path.exists():
        return History()
    history = History()
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            history.entries.append(HistoryEntry.model_validate_json(raw))
        except ValidationError as exc:
            history.skipped.append(number)
            log.warning("%s:%d: skipped, not a history entry: %s", path, number, exc.errors()[0]["msg"])
    return history


def append_entry(path: Path, entry: HistoryEntry) -> None:
    """Append one entry as one write of a whole line (``O_APPEND``), then fsync.

    A file whose last line was torn (no newline) gets one first, so the torn fragment
    stays a line of its own and the new entry stays readable.
    """
    line = (json.dumps(entry.line(), default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and _last_byte(path, size) != b"\n":
            line = b"\n" + line
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"{path}: short write ({written} of {len(line)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)


def _last_byte(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1)
