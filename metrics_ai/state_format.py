"""Format versions of the JSON state files that families write, and reading older ones.

Every family keeps one JSON index per version folder (``stats.json``, ``clusters.json``,
``disks.json``, ``series.json``, ``forecast.json``) next to the arrays it names. Each
index records ``"format": N``. When a layout changes, its :class:`StateFormat` gets the
next number and an upgrade from the number before, so a version published by the
previous release still loads (the store falls back to, and rolls back to, old versions).

Files written before formats were recorded have no ``format`` entry; they read as
:attr:`StateFormat.unversioned`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metrics_ai.errors import ArtifactError

Body = dict[str, Any]
Upgrade = Callable[[Body], Body]


@dataclass(frozen=True)
class StateFormat:
    """One state file's name, the layout version written now, and how to read older ones.

    Attributes:
        file: the file name inside a version folder.
        version: the layout :meth:`write` produces.
        upgrades: ``n -> f`` where ``f`` turns a body of layout ``n`` into layout ``n + 1``;
            every version from :attr:`unversioned` up to ``version - 1`` needs one.
        unversioned: the layout of a file without a ``format`` entry.
    """

    file: str
    version: int
    upgrades: Mapping[int, Upgrade] = field(default_factory=dict)
    unversioned: int = 1

    def __post_init__(self) -> None:
        missing = [n for n in range(self.unversioned, self.version) if n not in self.upgrades]
        if missing:
            raise ValueError(f"{self.file}: no upgrade from format(s) {missing} to {self.version}")

    def write(self, folder: Path, body: Mapping[str, Any]) -> None:
        """Write ``body`` as ``folder/<file>`` with this layout's ``format``."""
        (folder / self.file).write_text(json.dumps({"format": self.version, **body}), encoding="utf-8")

    def read(self, folder: Path) -> Body:
        """The body of ``folder/<file>`` in the current layout (without ``format``).

        Raises:
            ArtifactError: the file is missing, not JSON, or of a layout this release cannot read
                (newer than :attr:`version`, or older than :attr:`unversioned`).
        """
        path = folder / self.file
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{path}: unreadable state: {exc}") from None
        if not isinstance(body, dict):
            raise ArtifactError(f"{path}: expected a JSON object, got {type(body).__name__}")
        return self.upgrade(body, path)

    def upgrade(self, body: Body, where: Path | str) -> Body:
        """``body`` (as read) brought to the current layout, without its ``format`` entry."""
        found = body.pop("format", self.unversioned)
        if not isinstance(found, int) or isinstance(found, bool) or not self.unversioned <= found <= self.version:
            raise ArtifactError(
                f"{where}: format {found!r}; this release reads formats {self.unversioned} to {self.version}"
            )
        for n in range(found, self.version):
            body = self.upgrades[n](body)
        return body


def unchanged(body: Body) -> Body:
    """The upgrade of a layout that only gained its ``format`` entry."""
    return body
