"""Artifact files on disk: checksums, checksum-verified unpickling, atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import joblib

from metrics_ai.errors import ChecksumError


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_pickle_verified(path: Path, expected_sha256: str) -> Any:
    """Unpickle (joblib) only after the bytes read match the manifest's sha256."""
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ChecksumError(f"{path}: sha256 mismatch; refusing to unpickle")
    return joblib.load(io.BytesIO(data))


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so readers see the old or the new content, never a part."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
