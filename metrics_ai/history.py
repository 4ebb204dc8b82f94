"""A model's history (``history.jsonl``): what happened to each version, one entry a line.

The format is the one the store has always written: ``{"time", "event", "version", ...}``
with ``reason`` for a rejection, ``previous`` for a rollback or an approval and ``by`` for
a person's approval or rejection.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


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
