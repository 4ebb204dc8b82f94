"""Artifact layout, checksums, atomic publishing, rollback (manifests: :mod:`metrics_ai.manifest`).

::

    <root>/<model>/
      manifest.json            the current version's manifest (switched by one rename)
      history.jsonl            append-only log: published, rejected (with reason), rollback,
                               pending / approved (APPROVAL=manual, with who)
                               (one :class:`~metrics_ai.history.HistoryEntry` a line)
      versions/<version>/      immutable: manifest.json + the family's files
      model.pkl                anomaly-detector only: a symlink into the current version

A version is written completely under a staging name, checksummed, and renamed
into ``versions/``; only then can it become current. Readers follow
``manifest.json`` and verify every file's sha256 before anything is deserialised.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from metrics_ai import __version__
from metrics_ai.errors import ArtifactError, ChecksumError, MissingArtifactError
from metrics_ai.files import atomic_write_text, load_pickle_verified, sha256_file
from metrics_ai.history import (
    CURRENT_EVENTS,
    DECISION_EVENTS,
    Event,
    History,
    HistoryEntry,
    append_entry,
    read_history,
)
from metrics_ai.manifest import SCHEMA_VERSION, DataWindow, Manifest, read_manifest

MANIFEST = "manifest.json"
HISTORY = "history.jsonl"
VERSIONS = "versions"
LOCK = ".lock"
#: how long a writer waits for another writer of the same model (a publish takes seconds,
#: an update of one family under a minute)
LOCK_WAIT_S = 900.0
log = logging.getLogger(__name__)
__all__ = [
    "HISTORY",
    "MANIFEST",
    "SCHEMA_VERSION",
    "DataWindow",
    "Manifest",
    "ModelStore",
    "load_pickle_verified",
    "new_version_id",
    "read_manifest",
    "sha256_file",
]
_TRACKED_LIBRARIES = ("numpy", "pandas", "scikit-learn", "prophet", "statsmodels", "keras", "tensorflow")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape a model."""
    found: dict[str, str] = {}
    for name in _TRACKED_LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def new_version_id(now: datetime | None = None) -> str:
    """Unique id that sorts by creation time: ``20261123T020000.123456Z-1a2b``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{uuid.uuid4().hex[:4]}"


class ModelStore:
    """The versions of one served model under ``<root>/<model>/``."""

    def __init__(self, root: Path, model: str) -> None:
        self.root = Path(root)
        self.model = model
        self.dir = self.root / model
        self.versions_dir = self.dir / VERSIONS

    # --- reading -----------------------------------------------------------
    def current(self) -> Manifest:
        """The current version's manifest (raises ArtifactError if none)."""
        return read_manifest(self.dir / MANIFEST)

    def current_version(self) -> str | None:
        """The current version id, or None when nothing is published."""
        try:
            return self.current().version
        except ArtifactError:
            return None

    def current_pointer(self) -> str | None:
        """The version ``manifest.json`` names, read without validation (None if unreadable).

        Lets a reader tell "a new, broken version was switched in" from "nothing changed".
        """
        try:
            raw = json.loads((self.dir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        version = raw.get("version") if isinstance(raw, dict) else None
        return str(version) if version is not None else None

    def version_dir(self, version: str) -> Path:
        """Folder of one version."""
        if "/" in version or version.startswith("."):
            raise ArtifactError(f"invalid version id {version!r}")
        return self.versions_dir / version

    def versions(self) -> list[str]:
        """Published (complete) versions, oldest first."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def manifest(self, version: str) -> Manifest:
        """The manifest of one version."""
        return read_manifest(self.version_dir(version) / MANIFEST)

    def verify(self, version: str | None = None) -> tuple[Manifest, Path]:
        """Check schema version and every file's sha256; return the manifest and folder."""
        if version is not None and not self.version_dir(version).is_dir():
            raise MissingArtifactError(f"{self.version_dir(version)}: no such version folder")
        manifest = self.current() if version is None else self.manifest(version)
        folder = self.version_dir(manifest.version)
        for rel, expected in manifest.files.items():
            path = folder / rel
            if not path.is_file():
                raise MissingArtifactError(f"{path}: missing (listed in the manifest)")
            actual = sha256_file(path)
            if actual != expected:
                raise ChecksumError(f"{path}: sha256 {actual[:12]}... does not match the manifest's {expected[:12]}...")
        return manifest, folder

    def history(self) -> list[HistoryEntry]:
        """Events of this model, oldest first (a torn or garbage line is skipped and logged)."""
        return self.read_history().entries

    def read_history(self) -> History:
        """Events of this model and the numbers of the lines skipped (:func:`read_history`)."""
        return read_history(self.dir / HISTORY)

    # --- writing -----------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
        """Hold this model's writer lock (``flock`` on ``<model>/.lock``) for the block.

        Writers (a full run's publish, an update's load-update-publish, a rollback, the
        pruning that follows) take it, so that two jobs on one volume (the weekly retrain
        and an hourly update, both CronJobs) never switch or prune under each other. The
        predictor only reads and never takes it. A filesystem without locks is logged
        and written without one.

        Raises:
            ArtifactError: another writer held the lock for ``wait_s`` seconds.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / LOCK).open("a") as handle:
            deadline = time.monotonic() + wait_s
            held = False
            while not held:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held = True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ArtifactError(
                            f"{self.model}: another job has held {self.dir / LOCK} for {wait_s:g} s; not written"
                        ) from None
                    time.sleep(0.2)
                except OSError as exc:
                    log.warning("%s: no file lock on %s (%s); writing without one", self.model, self.dir, exc)
                    break
            try:
                yield
            finally:
                if held:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def stage(self) -> Iterator[Path]:
        """A private folder to write a new version into; removed if anything fails."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.versions_dir, prefix=".staging-"))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def commit(self, staging: Path, **fields: Any) -> Manifest:
        """Checksum a staged folder, write its manifest and rename it into ``versions/``.

        Args:
            staging: the folder from :meth:`stage`, holding the family's files.
            fields: manifest fields (family, data, config, metrics, entities, ...).
        """
        version = fields.pop("version", None) or new_version_id()
        files = {
            str(p.relative_to(staging)): sha256_file(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file() and p.name != MANIFEST
        }
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            model=self.model,
            version=version,
            created_at=datetime.now(UTC),
            code_version=__version__,
            libraries=library_versions(),
            python=platform.python_version(),
            files=files,
            **fields,
        )
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        os.chmod(staging, 0o775)
        os.rename(staging, self.version_dir(version))
        self._log(Event.published, version)
        return manifest

    def promote(self, version: str, event: Event = Event.promoted, **details: Any) -> Manifest:
        """Make a complete version current with one atomic rename of ``manifest.json``."""
        manifest, folder = self.verify(version)
        for alias in manifest.aliases:
            link = self.dir / alias
            tmp = self.dir / f".{alias}.{uuid.uuid4().hex[:6]}"
            os.symlink(os.path.relpath(folder / alias, self.dir), tmp)
            os.replace(tmp, link)
        atomic_write_text(self.dir / MANIFEST, manifest.model_dump_json(indent=2))
        try:  # switched: a history that cannot be written must not turn that into a failure
            self._log(event, version, **details)
        except OSError as exc:
            log.error("%s: version %s is current, but %s was not written: %s", self.model, version, HISTORY, exc)
        return manifest

    def rollback(
        self, version: str | None = None, check: Callable[[ModelStore, str], object] | None = None
    ) -> tuple[str, str | None]:
        """Make an earlier version current again (default: the last one that was current before).

        Holds the writer lock, so a rollback never races a run or an update of this model.

        Args:
            version: the version to make current (default: the one current before).
            check: called with the store and the target before the switch (the publish's smoke
                test: verify, load, answer the smoke instances); anything it raises refuses.

        Returns:
            (the version now current, the one current before).

        Raises:
            ArtifactError: nothing is published, there is no earlier version, no ``version``,
                or the target failed ``check``.
        """
        if not self.dir.is_dir():
            raise ArtifactError(f"{self.model}: nothing published under {self.root}")
        with self.locked():
            current = self.current_version()
            versions = self.versions()
            earlier = [v for v in reversed(self.served_versions()) if v != current and v in versions]
            target = version or (earlier[0] if earlier else None)
            if target is None:
                raise ArtifactError(f"{self.model}: no earlier version to roll back to (versions: {versions})")
            if target not in versions:
                raise ArtifactError(f"{self.model}: no version {target!r}; have {versions}")
            if check is not None:
                try:
                    check(self, target)
                except Exception as exc:  # a version that cannot serve must never become current
                    raise ArtifactError(
                        f"{self.model}: version {target} failed the smoke test, not made current: "
                        f"{type(exc).__name__}: {exc}"
                    ) from None
            self.promote(target, Event.rollback, previous=current)
        return target, current

    def served_versions(self) -> list[str]:
        """Versions that have been current (published, promoted or rolled back to), by last time current."""
        was_current = [e.version for e in self.history() if e.event in CURRENT_EVENTS]
        return list(reversed(dict.fromkeys(reversed(was_current))))

    def reject(self, version: str, reason: str) -> None:
        """Record that a version failed the gate; it stays on disk, never current."""
        self._log(Event.rejected, version, reason=reason)

    def rejected(self) -> dict[str, str]:
        """Rejected versions and why."""
        return {e.version: e.reason or "" for e in self.history() if e.event == Event.rejected}

    def prune(self, keep: int, also_keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Delete the versions the KEEP_VERSIONS policy does not keep; return them, oldest first.

        Kept: the current version, ``also_keep`` (the newest full run's), the newest version on
        disk (the last run's result, accepted or not, to inspect or force with ``rollback
        --version``), and the newest ``keep`` others, where versions that have been current
        rank before the rest. Rejected and orphaned versions (never current: a run killed
        between commit and switch) count against the same ``keep`` and are pruned first.
        ``keep`` 0 deletes nothing. Writers call it holding :meth:`locked` (it also clears
        staging folders).
        """
        versions = self.versions()
        doomed: list[str] = []
        if keep > 0 and versions:
            served = set(self.served_versions())
            ranked = [v for v in reversed(versions) if v in served] + [v for v in reversed(versions) if v not in served]
            spared = {self.current_version(), versions[-1], *also_keep, *ranked[:keep], *self.awaiting_approval()}
            doomed = [v for v in versions if v not in spared]
        for version in doomed:
            shutil.rmtree(self.version_dir(version), ignore_errors=True)
        for stale in self.versions_dir.glob(".staging-*") if self.versions_dir.is_dir() else []:
            shutil.rmtree(stale, ignore_errors=True)
        return doomed

    # --- approval (APPROVAL=manual) --------------------------------------------
    def hold(self, version: str) -> None:
        """Record that a version passed the smoke test and the gate and waits for a person."""
        self._log(Event.pending, version)

    def awaiting_approval(self) -> list[str]:
        """Pending versions nobody approved or rejected yet, newer than the current one, oldest first.

        Approving one supersedes the older pending versions: they are no longer awaited
        (and pruning may remove them); pruning never removes an awaited one.
        """
        current = self.current_version() or ""
        history = self.history()
        decided = {e.version for e in history if e.event in DECISION_EVENTS}
        pending = {e.version for e in history if e.event == Event.pending} - decided
        return [v for v in self.versions() if v in pending and v > current]

    def approve(self, version: str | None, by: str) -> tuple[str, str | None]:
        """Make a version awaiting approval current (default: the newest), under the writer lock.

        Returns:
            (the version now current, the one current before).

        Raises:
            ArtifactError: no such version awaits approval.
        """
        self._awaited(version)  # fail before taking (and creating) the lock of an unknown model
        with self.locked():
            target, current = self._awaited(version), self.current_version()
            self.promote(target, Event.approved, previous=current, by=by)
        return target, current

    def decline(self, version: str | None, reason: str, by: str) -> str:
        """Reject a version awaiting approval (default: the newest) and record why; returns it.

        Raises:
            ArtifactError: no such version awaits approval.
        """
        self._awaited(version)
        with self.locked():
            target = self._awaited(version)
            self._log(Event.rejected, target, reason=reason, by=by)
        return target

    def _awaited(self, version: str | None) -> str:
        awaiting = self.awaiting_approval()
        target = version or (awaiting[-1] if awaiting else None)
        if target is None or target not in awaiting:
            wanted = f"version {target!r} does not await" if target else "no version awaits"
            raise ArtifactError(f"{self.model}: {wanted} approval (awaiting: {awaiting or 'none'})")
        return target

    def _log(self, event: Event, version: str, **details: Any) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        entry = HistoryEntry(time=datetime.now(UTC).isoformat(), event=event, version=version, **details)
        append_entry(self.dir / HISTORY, entry)
