"""Training progress: the callback every long step reports through, and how it is shown.

Rich's bar at a terminal, plain log lines in a pod.

A pod's log has no terminal, so rich would draw its bar once, at the end. Without a
TTY each task instead logs ``progress: <task> <done>/<total> (<pct>) elapsed <s> eta <s>``
when it starts, at most every ``interval`` seconds while it runs, and when it completes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

log = logging.getLogger("training.progress")

#: progress callback: (units done since last call, total units or None, description)
Progress = Callable[[int, int | None, str], None]


def no_progress(done: int, total: int | None, description: str) -> None:
    """A progress callback that reports nothing."""


#: seconds between two lines of one task in a log (the first and the last always print)
LINE_INTERVAL = 10.0


@dataclass
class _Task:
    total: int | None
    started: float
    done: int = 0
    first_done: int = 0
    last_line: float = field(default=-1.0)


class LineProgress:
    """Progress as log lines: per task done/total, elapsed and a linear ETA."""

    def __init__(self, interval: float = LINE_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.tasks: dict[str, _Task] = {}

    def advance(self, done: int, total: int | None, description: str) -> None:
        """The :data:`Progress` callback: ``done`` more units of ``description``."""
        now = self.clock()
        task = self.tasks.get(description)
        if task is None:
            task = self.tasks[description] = _Task(total, now, first_done=done)
        task.total = total if total is not None else task.total
        task.done += done
        finished = task.total is not None and task.done >= task.total
        if finished or task.last_line < 0 or now - task.last_line >= self.interval:
            task.last_line = now
            log.info("progress: %s", self.line(description, now))

    def line(self, description: str, now: float) -> str:
        """``<task> <done>/<total> (<pct>%) elapsed <s>s eta <s>s``.

        Elapsed counts from the task's first report; the ETA is linear in the units done
        since then (``?`` until one more is done; 0 when complete).
        """
        task = self.tasks[description]
        elapsed = now - task.started
        if task.total is None:
            return f"{description} {task.done} elapsed {elapsed:.0f}s"
        share = task.done / task.total if task.total else 1.0
        since = task.done - task.first_done
        if task.done >= task.total:
            eta = "0s"
        elif since > 0 and elapsed > 0:
            eta = f"{(task.total - task.done) * elapsed / since:.0f}s"
        else:
            eta = "?"
        return f"{description} {task.done}/{task.total} ({100 * share:.0f}%) elapsed {elapsed:.0f}s eta {eta}"


@contextlib.contextmanager
def progress_reporter(console: Console) -> Iterator[Callable[[str], Progress]]:
    """Yield the per-model progress callback factory: a bar on a terminal, else log lines."""
    if not console.is_terminal:
        lines = LineProgress()
        yield lambda model: lines.advance
        return
    with RichProgress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress_for(model: str) -> Progress:
            def advance(done: int, total: int | None, description: str) -> None:
                if description not in tasks:
                    tasks[description] = bar.add_task(description, total=total)
                bar.update(tasks[description], advance=done, total=total)

            return advance

        yield progress_for
