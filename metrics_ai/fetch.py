"""The predictor's live history source: one entity's latest window from Prometheus.

:class:`PrometheusFetcher` implements :class:`metrics_ai.families.base.HistoryFetcher`.
It runs the signal's query (the same queries file as training) filtered server-side to
one entity, caches the answer for PROMETHEUS_CACHE_SECONDS in a per-instance LRU, and
never waits longer than PROMETHEUS_FETCH_TIMEOUT (then 504). Its errors name the signal
only: the PromQL, the upstream URL and the upstream's answer go to the log, never to
the client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from metrics_ai.errors import UpstreamTimeoutError, UpstreamUnavailableError
from metrics_ai.prometheus import (
    MAX_FILL_STEPS,
    PrometheusClient,
    PrometheusQueryError,
    canonical_series,
    fill_short_gaps,
    load_queries,
)
from metrics_ai.series import History
from metrics_ai.settings import Settings

log = logging.getLogger(__name__)

_INSTANCE_HOST = "(.*?)(?::[0-9]+)?"
_NODE_KEY = "metrics_ai_node"

CacheKey = tuple[str, tuple[tuple[str, str], ...], float, int]


def _quote(value: str) -> str:
    """A PromQL string literal for a label_replace replacement (``$`` is literal)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$")
    return f'"{escaped}"'


def _with_label(expr: str, label: str, value: str) -> str:
    return f'label_replace({expr}, "{label}", {_quote(value)}, "", "")'


def entity_query(
    query: str, labels: Mapping[str, str], cluster_label: str, cluster_name: str = ""
) -> str | None:
    """``query`` restricted server-side to one entity (canonical label names).

    The node may be carried by the ``node`` label or by ``instance`` (with a port), so
    both are tried. Without ``node`` the cluster's nodes are averaged, one value per
    node (a cluster-level entity). A request for cluster ``cluster_name`` (CLUSTER_NAME)
    also matches series without ``cluster_label``: training names a Prometheus without
    that label so (:func:`metrics_ai.prometheus.name_unlabelled`). Returns None when
    ``labels`` names no entity.
    """
    if cluster_name and labels.get("cluster") == cluster_name:
        # label_replace's regex is anchored: "" matches only series without the label
        query = f'label_replace(({query}), "{cluster_label}", {_quote(cluster_name)}, "{cluster_label}", "")'
    on: list[str] = []
    selector = "vector(1)"
    if "cluster" in labels:
        selector = _with_label(selector, cluster_label, labels["cluster"])
        on.append(cluster_label)
    if labels.get("mountpoint"):
        selector = _with_label(selector, "mountpoint", labels["mountpoint"])
        on.append("mountpoint")
    node = labels.get("node")
    if not node:
        if "cluster" not in labels:
            return None
        # one value per canonical node (node label, else instance host) before averaging,
        # so a node scraped twice is not counted twice
        canon = f'label_replace(({query}), "{_NODE_KEY}", "$1", "instance", "{_INSTANCE_HOST}")'
        canon = f'label_replace({canon}, "{_NODE_KEY}", "$1", "node", "(.+)")'
        filtered = f"{canon} and on ({', '.join(on)}) {selector}"
        return f"avg by ({cluster_label}) (max by ({cluster_label}, {_NODE_KEY}, mountpoint) ({filtered}))"
    by_node = f"({query}) and on ({', '.join([*on, 'node'])}) {_with_label(selector, 'node', node)}"
    stripped = f'label_replace(({query}), "instance", "$1", "instance", "{_INSTANCE_HOST}")'
    by_instance = f"{stripped} and on ({', '.join([*on, 'instance'])}) {_with_label(selector, 'instance', node)}"
    return f"({by_node}) or ({by_instance})"


class PrometheusFetcher:
    """History for requests that bring none, from Prometheus, cached and time-boxed.

    Args:
        settings: Prometheus access, PROMETHEUS_FETCH_TIMEOUT, PROMETHEUS_CACHE_SECONDS,
            CLUSTER_LABEL, CLUSTER_NAME and QUERIES_FILE.
        max_entries: LRU size of the cache.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = settings.prometheus_fetch_timeout
        self.ttl = settings.prometheus_cache_seconds
        self.max_entries = max_entries
        self._cluster_label = settings.cluster_label
        self._cluster_name = settings.cluster_name
        self._queries = load_queries(settings)
        self._client = PrometheusClient(settings, timeout=self.timeout, retries=0)
        self._clock = clock
        self._cache: OrderedDict[CacheKey, tuple[float, History | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="prometheus-fetch")

    def close(self) -> None:
        """Stop the worker threads and close connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def fetch(self, signal: str, labels: Mapping[str, str], seconds: float, step: int) -> History | None:
        """The last ``seconds`` of ``signal`` for ``labels`` at ``step`` s, or None if unknown.

        Raises:
            UpstreamTimeoutError: no complete answer within PROMETHEUS_FETCH_TIMEOUT (504).
            UpstreamUnavailableError: Prometheus cannot be reached or refused (503).
        """
        if signal not in self._queries:
            return None
        key: CacheKey = (signal, tuple(sorted((str(k), str(v)) for k, v in labels.items())), float(seconds), int(step))
        cached = self._cached(key)
        if cached is not None:
            return cached[1]
        future = self._pool.submit(self._query, signal, dict(labels), float(seconds), int(step))
        try:
            history = future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            log.warning("prometheus: no %s history for %s within %g s", signal, dict(labels), self.timeout)
            raise UpstreamTimeoutError(
                f"Prometheus did not answer the {signal} history within {self.timeout:g} s"
            ) from None
        self._store(key, history)
        return history

    def _cached(self, key: CacheKey) -> tuple[float, History | None] | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return entry

    def _store(self, key: CacheKey, history: History | None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._cache[key] = (self._clock() + self.ttl, history)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)

    def _query(self, signal: str, labels: dict[str, str], seconds: float, step: int) -> History | None:
        """One range query for one entity; the client checks the labels again."""
        query = entity_query(self._queries[signal], labels, self._cluster_label, self._cluster_name)
        if query is None:
            return None
        end = int(time.time()) // step * step
        try:
            raw = self._client.query_range(query, end - seconds, end, step)
        except UpstreamTimeoutError as exc:
            log.warning("prometheus: %s history for %s timed out: %s", signal, labels, exc)
            raise UpstreamTimeoutError(
                f"Prometheus did not answer the {signal} history within {self.timeout:g} s"
            ) from None
        except PrometheusQueryError as exc:
            log.warning("prometheus: %s history for %s refused: %s", signal, labels, exc)
            raise UpstreamUnavailableError(
                f"Prometheus refused the {signal} history query (credentials or query; see the predictor log)"
            ) from None
        except UpstreamUnavailableError as exc:
            log.warning("prometheus: %s history for %s unavailable: %s", signal, labels, exc)
            raise UpstreamUnavailableError(
                f"Prometheus is unavailable for the {signal} history (see the predictor log)"
            ) from None
        series, _ = canonical_series(raw, signal, self._cluster_label)
        wanted = {k: labels[k] for k in ("cluster", "node", "mountpoint") if k in labels}
        matches = [s for s in series if all(getattr(s, k) == v for k, v in wanted.items())]
        if not matches:
            return None
        best = max(matches, key=lambda s: len(s.values))
        ts, vs = fill_short_gaps(best.timestamps, best.values, step, MAX_FILL_STEPS)
        return History(timestamps=ts.astype("float64"), values=vs.astype("float64"))
