"""Per-series fitting fanned out: local processes by default, a Ray cluster when configured.

Every family hands its independent per-series fits to :func:`make_executor`'s ``map``:
one bad series is reported and skipped, never fatal; progress is reported as fits finish;
results come back keyed by series, so the outcome does not depend on completion order or
on the backend (each fit seeds itself from its inputs, never from worker state).
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from metrics_ai.settings import Settings
from training.families.base import Progress, no_progress

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class SeriesResult(Generic[Out]):
    """The fit of one series: its value, or the error that made it be skipped."""

    key: str
    value: Out | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the fit produced a value."""
        return self.error is None


def _call(fn: Callable[[Any], Any], key: str, item: Any) -> SeriesResult[Any]:
    """Run one fit; turn any exception into a reported error (runs in the worker)."""
    try:
        return SeriesResult(key, fn(item))
    except Exception as exc:  # per-series isolation: report and go on
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return SeriesResult(key, None, detail)


class Executor(Protocol):
    """Maps a fit function over keyed items."""

    name: str

    def map(
        self,
        fn: Callable[[In], Out],
        items: Sequence[tuple[str, In]],
        description: str = "series",
        progress: Progress = no_progress,
    ) -> dict[str, SeriesResult[Out]]:
        """Fit every item; results keyed by item key, in input order."""
        ...


def _collect(
    results: Iterable[SeriesResult[Any]], keys: Sequence[str], description: str, progress: Progress
) -> dict[str, SeriesResult[Any]]:
    done: dict[str, SeriesResult[Any]] = {}
    for result in results:
        done[result.key] = result
        if not result.ok:
            log.warning("%s %s skipped: %s", description, result.key, result.error)
        progress(1, len(keys), description)
    return {key: done[key] for key in keys}


class LocalExecutor:
    """joblib's loky process pool (inline when one worker or one item)."""

    name = "local"

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map(
        self,
        fn: Callable[[In], Out],
        items: Sequence[tuple[str, In]],
        description: str = "series",
        progress: Progress = no_progress,
    ) -> dict[str, SeriesResult[Out]]:
        keys = [key for key, _ in items]
        if self.workers == 1 or len(items) <= 1:
            return _collect((_call(fn, k, v) for k, v in items), keys, description, progress)
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="loky", inner_max_num_threads=1):
            stream = Parallel(n_jobs=min(self.workers, len(items)), return_as="generator_unordered")(
                delayed(_call)(fn, k, v) for k, v in items
            )
            return _collect(stream, keys, description, progress)


class RayExecutor:
    """Ray tasks on the cluster at ``address`` (``auto``, ``ray://host:10001``, ``host:6379``)."""

    name = "ray"

    def __init__(self, address: str) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
        self._ray = ray

    def map(
        self,
        fn: Callable[[In], Out],
        items: Sequence[tuple[str, In]],
        description: str = "series",
        progress: Progress = no_progress,
    ) -> dict[str, SeriesResult[Out]]:
        ray = self._ray
        keys = [key for key, _ in items]
        remote = ray.remote(num_cpus=1)(_call)
        fn_ref = ray.put(fn)
        pending = [remote.remote(fn_ref, k, v) for k, v in items]

        def stream() -> Iterable[SeriesResult[Any]]:
            waiting = list(pending)
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                yield ray.get(ready[0])

        return _collect(stream(), keys, description, progress)


def make_executor(settings: Settings) -> LocalExecutor | RayExecutor:
    """Ray when RAY_ADDRESS is set, else local processes (WORKERS, default one per core)."""
    if settings.ray_address:
        return RayExecutor(settings.ray_address)
    return LocalExecutor(settings.workers)
