"""Per-series fitting fanned out: local processes by default, a Ray cluster when configured.

Every family hands its independent per-series fits to :func:`make_executor`'s ``map``:
one bad series is reported and skipped, never fatal; progress is reported as fits finish;
results come back keyed by series, so the outcome does not depend on completion order or
on the backend (each fit seeds itself from its inputs, never from worker state).

Each ``map`` leaves a :class:`MapRecord` on its executor (backend, tasks, failures, the
distinct processes and nodes that ran them); the pipeline writes a family's records into
its manifest (``metrics["executor"]``), so a run says where its fits actually ran.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Generic, TypeVar

from threadpoolctl import threadpool_limits

from metrics_ai.settings import Settings
from training.progress import Progress, no_progress
from training.ray_local import LOOPBACK_ENV, is_loopback_address

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class SeriesResult(Generic[Out]):
    """The fit of one series: its value, or the error that made it be skipped."""

    key: str
    value: Out | None = None
    error: str | None = None
    pid: int = 0
    """The process that ran the fit."""
    node: str = "local"
    """The Ray node id that ran it (``local`` for local processes)."""

    @property
    def ok(self) -> bool:
        """True when the fit produced a value."""
        return self.error is None


def _call(fn: Callable[[Any], Any], key: str, item: Any) -> SeriesResult[Any]:
    """Run one fit on one BLAS/OpenMP thread; turn any exception into a reported error (runs in the worker).

    One thread per fit on every backend: the fits are the parallelism, and a fit whose
    BLAS spreads over busy cores runs several times slower (ARIMA: 6-8x on 2 loaded cores).
    """
    try:
        with threadpool_limits(limits=1):
            value = fn(item)
        return SeriesResult(key, value, pid=os.getpid())
    except Exception as exc:  # per-series isolation: report and go on
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return SeriesResult(key, None, detail, pid=os.getpid())


def _call_on_ray(fn: Callable[[Any], Any], key: str, item: Any) -> SeriesResult[Any]:
    """:func:`_call` in a Ray worker, tagged with the node that ran it."""
    import ray

    return replace(_call(fn, key, item), node=ray.get_runtime_context().get_node_id())


@dataclass(frozen=True)
class MapRecord:
    """One ``map``: what ran where (written to the manifest's ``metrics["executor"]``)."""

    backend: str
    description: str
    tasks: int
    failed: int
    processes: int
    nodes: int
    seconds: float

    @classmethod
    def of(cls, backend: str, description: str, results: dict[str, SeriesResult[Any]], seconds: float) -> MapRecord:
        """Summarise a finished map."""
        values = list(results.values())
        return cls(
            backend,
            description,
            tasks=len(values),
            failed=sum(not r.ok for r in values),
            processes=len({(r.node, r.pid) for r in values}),
            nodes=len({r.node for r in values}),
            seconds=round(seconds, 3),
        )


def describe(backend: str, address: str | None, records: Sequence[MapRecord]) -> dict[str, Any]:
    """The manifest's ``metrics["executor"]`` for a family's maps."""
    out: dict[str, Any] = {"backend": backend}
    if address:
        out["address"] = address
    out["maps"] = [{k: v for k, v in asdict(r).items() if k != "backend"} for r in records]
    return out


def _collect(
    results: Iterable[SeriesResult[Any]],
    keys: Sequence[str],
    description: str,
    progress: Progress,
    backend: str,
    records: list[MapRecord],
    start: float,
) -> dict[str, SeriesResult[Any]]:
    done: dict[str, SeriesResult[Any]] = {}
    for result in results:
        done[result.key] = result
        if not result.ok:
            log.warning("%s %s skipped: %s", description, result.key, result.error)
        progress(1, len(keys), description)
    ordered = {key: done[key] for key in keys}
    record = MapRecord.of(backend, description, ordered, time.perf_counter() - start)
    records.append(record)
    log.info(
        "%s: %d fits on %s (%d processes, %d nodes, %d failed) in %.1f s",
        description, record.tasks, backend, record.processes, record.nodes, record.failed, record.seconds,
    )  # fmt: skip
    return ordered


class LocalExecutor:
    """joblib's loky process pool (inline when one worker or one item)."""

    name = "local"
    address = None

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.records: list[MapRecord] = []

    def map(
        self,
        fn: Callable[[In], Out],
        items: Sequence[tuple[str, In]],
        description: str = "series",
        progress: Progress = no_progress,
    ) -> dict[str, SeriesResult[Out]]:
        start, keys = time.perf_counter(), [key for key, _ in items]
        if self.workers == 1 or len(items) <= 1:
            stream: Iterable[SeriesResult[Out]] = (_call(fn, k, v) for k, v in items)
            return _collect(stream, keys, description, progress, self.name, self.records, start)
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="loky", inner_max_num_threads=1):
            stream = Parallel(n_jobs=min(self.workers, len(items)), return_as="generator_unordered")(
                delayed(_call)(fn, k, v) for k, v in items
            )
            return _collect(stream, keys, description, progress, self.name, self.records, start)


class RayExecutor:
    """Ray tasks on the cluster at ``address`` (``auto``, ``ray://host:10001``, ``host:6379``).

    Connects on the first ``map`` (a run that fans nothing out never touches Ray). A
    loopback address (``127.0.0.1:6379``) keeps the driver on loopback: Ray would
    otherwise swap 127.0.0.1 for the machine's interface address (see
    :mod:`training.ray_local`).
    """

    name = "ray"

    def __init__(self, address: str) -> None:
        self.address = address
        self.records: list[MapRecord] = []

    def connect(self) -> Any:
        """Connect this process to the cluster (once); returns the ray module."""
        loopback = is_loopback_address(self.address)
        if loopback:
            os.environ.setdefault(LOOPBACK_ENV, "0")  # read when ray is first imported
        import ray

        if loopback:  # ray imported earlier in this process: the same switch, already read
            from ray._private import ray_constants

            ray_constants.ENABLE_RAY_CLUSTER = False
        if not ray.is_initialized():
            ray.init(address=self.address, log_to_driver=False, include_dashboard=False)
        return ray

    def map(
        self,
        fn: Callable[[In], Out],
        items: Sequence[tuple[str, In]],
        description: str = "series",
        progress: Progress = no_progress,
    ) -> dict[str, SeriesResult[Out]]:
        ray = self.connect()
        start, keys = time.perf_counter(), [key for key, _ in items]
        remote = ray.remote(num_cpus=1)(_call_on_ray)
        fn_ref = ray.put(fn)
        pending = [remote.remote(fn_ref, k, v) for k, v in items]

        def stream() -> Iterable[SeriesResult[Any]]:
            waiting = list(pending)
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                yield ray.get(ready[0])

        return _collect(stream(), keys, description, progress, self.name, self.records, start)


def make_executor(settings: Settings) -> LocalExecutor | RayExecutor:
    """Ray when RAY_ADDRESS is set, else local processes (WORKERS, default one per core)."""
    if settings.ray_address:
        return RayExecutor(settings.ray_address)
    return LocalExecutor(settings.workers)
