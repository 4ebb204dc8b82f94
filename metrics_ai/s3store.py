"""Mirror a model root (:mod:`metrics_ai.artifacts` layout) to and from ``s3://bucket/prefix``.

For clusters without a ReadWriteMany volume: a training pod pulls the published models
into a local folder, trains there with the ordinary :class:`~metrics_ai.artifacts.ModelStore`
(versions, quality gate, rollback, pruning all unchanged), and pushes the result back.
KServe's storage initializer downloads the same prefix into each predictor at start.

Keys mirror the local paths: ``<prefix>/<model>/manifest.json``,
``<prefix>/<model>/history.jsonl``, ``<prefix>/<model>/versions/<version>/...``.
Ordering keeps a reader safe: a version's files are uploaded before the manifest that
names it, and a pull writes each model's ``manifest.json`` last (atomically).
Not mirrored: dot files (the writer lock, staging folders), symlinks (aliases such as
``model.pkl`` are recreated on pull), and ``reports/``. S3 has no lock: of two overlapping
writers the later push's manifest and history win; a push deletes only versions its own
pull saw, so a version the other published survives.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metrics_ai.artifacts import HISTORY, MANIFEST, VERSIONS, ModelStore, sha256_file
from metrics_ai.errors import ArtifactError
from metrics_ai.families import MODEL_NAMES

#: files that change in place; every other mirrored file is immutable once written
MUTABLE = (MANIFEST, HISTORY)


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (no leading or trailing slash; may be empty)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """``s3://bucket/prefix`` -> S3Location; anything else is an ArtifactError."""
        if not uri.startswith("s3://"):
            raise ArtifactError(f"{uri!r}: expected s3://bucket/prefix")
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ArtifactError(f"{uri!r}: no bucket name")
        return cls(bucket, prefix.strip("/"))

    def key(self, rel: str) -> str:
        """The object key of a path relative to the model root."""
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def rel(self, key: str) -> str:
        """The path relative to the model root of an object key."""
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class Pulled:
    """What a pull saw: the relative paths on S3, and the sha256 of each mutable file."""

    keys: frozenset[str] = frozenset()
    mutable: dict[str, str] = field(default_factory=dict)


def _mirrored(rel: str) -> bool:
    """Whether a relative path belongs to a model's mirrored files."""
    parts = rel.split("/")
    if len(parts) < 2 or parts[0] not in MODEL_NAMES or any(p.startswith(".") for p in parts):
        return False
    return (len(parts) == 2 and parts[1] in MUTABLE) or (len(parts) >= 4 and parts[1] == VERSIONS)


def _is_switch(rel: str) -> bool:
    """A model's ``manifest.json`` (the current-version pointer)."""
    return rel.count("/") == 1 and rel.endswith(f"/{MANIFEST}")


def _mutable(rel: str) -> bool:
    """A model's ``manifest.json`` or ``history.jsonl``: rewritten in place, always transferred."""
    return rel.count("/") == 1 and rel.split("/")[1] in MUTABLE


def _upload_order(rel: str) -> tuple[int, str]:
    """Version files, then a version's own manifest, then history, then the switch."""
    if _is_switch(rel):
        return 3, rel
    if rel.endswith(f"/{HISTORY}"):
        return 2, rel
    return (1 if rel.endswith(f"/{MANIFEST}") else 0), rel


class S3Mirror:
    """Pull and push the mirrored files of a model root; ``client`` is a boto3 S3 client."""

    def __init__(self, client: Any, location: S3Location) -> None:
        self.client = client
        self.location = location

    def remote(self) -> dict[str, int]:
        """Mirrored relative paths on S3 and their sizes."""
        found: dict[str, int] = {}
        prefix = self.location.key("")
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.location.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                rel = self.location.rel(obj["Key"])
                if _mirrored(rel):
                    found[rel] = int(obj["Size"])
        return found

    def pull(self, root: Path) -> Pulled:
        """Make ``root`` hold what S3 holds (run it before writing there); return what it saw.

        Immutable version files already present locally are not downloaded again; local
        versions that S3 no longer has (pruned by another run) are removed after the switch.
        """
        remote = self.remote()
        for rel in sorted(remote, key=_upload_order):
            path = root / rel
            if not _mutable(rel) and path.is_file() and path.stat().st_size == remote[rel]:
                continue
            self._download(rel, path)
        kept = {tuple(rel.split("/")[:3]) for rel in remote if "/versions/" in rel}
        for model in MODEL_NAMES:
            versions = root / model / VERSIONS
            for folder in versions.iterdir() if versions.is_dir() else []:
                if not folder.name.startswith(".") and (model, VERSIONS, folder.name) not in kept:
                    shutil.rmtree(folder, ignore_errors=True)
            _relink_aliases(ModelStore(root, model))
        mutable = {rel: sha256_file(root / rel) for rel in remote if _mutable(rel)}
        return Pulled(frozenset(remote), mutable)

    def push(self, root: Path, pulled: Pulled) -> tuple[int, int]:
        """Upload what is new or changed under ``root``; delete versions this run pruned.

        A manifest or history is uploaded only when this run changed it (a read-only command
        such as ``versions`` uploads nothing, so it never reverts another writer's switch).
        Only keys ``pulled`` saw are ever deleted, so a version another writer published
        meanwhile survives. Returns (uploaded, deleted).
        """
        remote = self.remote()
        local = {
            str(p.relative_to(root)): p
            for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and _mirrored(str(p.relative_to(root)))
        }
        uploaded = 0
        for rel in sorted(local, key=_upload_order):
            if _mutable(rel):
                if pulled.mutable.get(rel) == sha256_file(local[rel]):
                    continue
            elif remote.get(rel) == local[rel].stat().st_size:
                continue
            self.client.upload_file(str(local[rel]), self.location.bucket, self.location.key(rel))
            uploaded += 1
        doomed = sorted(rel for rel in pulled.keys & set(remote) if rel not in local and "/versions/" in rel)
        for rel in doomed:
            self.client.delete_object(Bucket=self.location.bucket, Key=self.location.key(rel))
        return uploaded, len(doomed)

    def _download(self, rel: str, path: Path) -> None:
        """Download one object so readers see the old file or the whole new one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        os.close(fd)
        try:
            self.client.download_file(self.location.bucket, self.location.key(rel), tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _relink_aliases(store: ModelStore) -> None:
    """Recreate the current version's alias symlinks (S3 holds no symlinks)."""
    try:
        manifest = store.current()
    except ArtifactError:
        return
    for alias in manifest.aliases:
        link = store.dir / alias
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(os.path.relpath(store.version_dir(manifest.version) / alias, store.dir))
