"""A version's manifest: what it is, and the entries of its metrics that code reads back.

A manifest's ``metrics`` is the family's own report (free-form, shown in the run's
report) plus two entries the publishing code reads back: ``gate`` (the figures the quality
gate compares) and, for a version an incremental update published, ``update``. They are
read through :class:`Manifest`'s ``gate``, ``update`` and ``full_run_gate``, never by key.
Manifests keep the format the earlier code wrote (the keys below are those it used);
:func:`read_manifest` checks the schema version first.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from metrics_ai.errors import ArtifactError, ManifestError, MissingArtifactError

SCHEMA_VERSION = 1

#: ``metrics[GATE]``: {figure name: value, lower is better, scale-free} (see training.publish.gate_reason)
GATE = "gate"
#: ``metrics[UPDATE]``: the :class:`UpdateRecord` of a version an incremental update published
UPDATE = "update"
#: ``metrics[UPDATE][FULL_RUN_GATE]``: the gate figures of the full run an update descends from
FULL_RUN_GATE = "full_run_gate"

Gate = dict[str, int | float | None]
"""Gate figures: name -> value (lower is better; None: not measured). ``int | float``: read back
as written, so a figure carried into the next manifest keeps its bytes."""
_GATE_SHAPE: TypeAdapter[Gate] = TypeAdapter(Gate)


class UpdateRecord(BaseModel):
    """What an incremental update records in its manifest (``metrics["update"]``).

    Family-specific details (``training.updates.base.UpdateOutcome.details``) are kept as
    extra fields.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    updated: int = 0
    """Entities whose models were updated from the current version."""
    new: list[str] = Field(default_factory=list)
    """Entities fitted from scratch on the window."""
    kept_stale: list[str] = Field(default_factory=list)
    """Entities carried over unchanged."""
    baseline_gate: Gate | None = None
    """The current version's figures on the update's tail (what the gate compared against)."""
    note: str = ""
    """How the family updates."""
    from_version: str | None = None
    """The version the update started from."""
    full_run_gate: Gate | None = None
    """The gate figures of the full run this version descends from."""


class DataWindow(BaseModel):
    """Where the training data came from and what it covered."""

    model_config = ConfigDict(extra="allow")

    source: str
    start: datetime | None = None
    end: datetime | None = None
    rows: int = 0
    entities: int = 0
    note: str | None = None


class Manifest(BaseModel):
    """What a version is: enough to reproduce, verify and explain it."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    schema_version: int
    model: str
    family: str
    version: str
    created_at: datetime
    code_version: str
    libraries: dict[str, str]
    python: str
    data: DataWindow
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    entities: list[str] = Field(default_factory=list)
    components: list[str] | None = None
    files: dict[str, str] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)

    @property
    def gate(self) -> Gate | None:
        """This version's quality-gate figures (``metrics["gate"]``), if it has any.

        Raises:
            ArtifactError: the figures are not name -> number.
        """
        raw = self.metrics.get(GATE)
        if raw is None:
            return None
        try:
            return _GATE_SHAPE.validate_python(raw)
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            raise ArtifactError(f"{self.model} {self.version}: invalid metrics.gate: {message}") from None

    @property
    def update(self) -> UpdateRecord | None:
        """What the incremental update that published this version recorded; None for a full run.

        Raises:
            ArtifactError: the record is malformed.
        """
        raw = self.metrics.get(UPDATE)
        if raw is None:
            return None
        try:
            return UpdateRecord.model_validate(raw)
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            raise ArtifactError(f"{self.model} {self.version}: invalid metrics.update: {message}") from None

    @property
    def is_update(self) -> bool:
        """Whether an incremental update (not a full run) published this version."""
        return UPDATE in self.metrics

    @property
    def full_run_gate(self) -> Gate | None:
        """The gate figures of the full run behind this version (its own, unless it is an update).

        An update's figures are measured on the last hours of a few series; a full run is held
        against the last full run's, measured the same way as its own.
        """
        update = self.update
        return update.full_run_gate if update is not None else self.gate


def read_manifest(path: Path) -> Manifest:
    """Parse a manifest file, checking its schema version first."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingArtifactError(f"{path}: no manifest (nothing published yet?)") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: unreadable manifest: {exc}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: manifest is not a JSON object")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ManifestError(
            f"{path}: schema_version {raw.get('schema_version')!r} is not supported "
            f"(this code reads {SCHEMA_VERSION}); retrain or roll back"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ManifestError(f"{path}: invalid manifest: {exc.errors()[0]['msg']}") from None
