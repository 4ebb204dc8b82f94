"""The progress callback every long step of the training job reports through."""

from __future__ import annotations

from collections.abc import Callable

#: progress callback: (units done since last call, total units or None, description)
Progress = Callable[[int, int | None, str], None]


def no_progress(done: int, total: int | None, description: str) -> None:
    """A progress callback that reports nothing."""
