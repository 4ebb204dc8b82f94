"""Range reads from Prometheus: one query per signal and window, for every entity at once.

The project's own queries (:func:`metrics_ai.prometheus.load_queries`), the shared
:class:`~metrics_ai.prometheus.PrometheusClient` (token, CA, retries, chunking) and
:func:`~metrics_ai.prometheus.canonical_series` (labels mapped, counters turned into
rates, duplicates removed); short gaps are forward-filled as the predictor's own
fetcher does. Reads of one pass run in parallel threads (they wait on Prometheus).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from metrics_ai.prometheus import (
    MAX_FILL_STEPS,
    CanonicalSeries,
    PrometheusClient,
    canonical_series,
    fill_short_gaps,
    load_queries,
    name_unlabelled,
)
from metrics_ai.settings import Settings


@dataclass(frozen=True, slots=True)
class Window:
    """What to read: ``signal`` over the last ``seconds`` at ``step`` seconds."""

    signal: str
    seconds: int
    step: int


Result = list[CanonicalSeries] | Exception
"""A read's series, or why it failed."""


class Reader:
    """Reads windows of the project's signals from one Prometheus.

    Args:
        settings: Prometheus access, CLUSTER_LABEL, CLUSTER_NAME, QUERIES_FILE.
        workers: reads in flight at once.
        client: a ready client (default: one built from ``settings``).
    """

    def __init__(self, settings: Settings, workers: int = 4, client: PrometheusClient | None = None) -> None:
        self.settings = settings
        self.queries = load_queries(settings)
        self._client = client or PrometheusClient(settings, retries=1, backoff=0.5)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prometheus-read")

    def close(self) -> None:
        """Stop the threads and close the connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def has(self, signal: str) -> bool:
        """Whether the queries file has a query for ``signal``."""
        return signal in self.queries

    def read(self, window: Window, end: int) -> list[CanonicalSeries]:
        """Every entity's ``window`` ending at ``end`` (unix s, floored to the step)."""
        stop = end // window.step * window.step
        raw = self._client.query_range(self.queries[window.signal], stop - window.seconds, stop, window.step)
        series, _ = canonical_series(raw, window.signal, self.settings.cluster_label)
        out = []
        for s in name_unlabelled(series, self.settings.cluster_name):
            ts, vs = fill_short_gaps(s.timestamps, s.values, window.step, MAX_FILL_STEPS)
            out.append(replace(s, timestamps=ts, values=vs))
        return out

    def read_all(self, windows: Sequence[Window], end: int) -> dict[Window, Result]:
        """Read ``windows`` in parallel; a failed read maps to its exception."""
        unique = list(dict.fromkeys(w for w in windows if self.has(w.signal)))
        futures = {w: self._pool.submit(_capture, self.read, w, end) for w in unique}
        return {w: f.result() for w, f in futures.items()}


def _capture(read: Callable[[Window, int], list[CanonicalSeries]], window: Window, end: int) -> Result:
    try:
        return read(window, end)
    except Exception as exc:  # noqa: BLE001 - reported per window by the pass
        return exc
