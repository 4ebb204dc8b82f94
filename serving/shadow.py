"""Shadow versions: a newer version also scores every V1 request, off the request path.

The current version answers every request. With SHADOW=pending (the newest version
awaiting approval) or SHADOW=newest (the newest version after the current one that was
not rejected), the request's instances and the current version's answers are handed to a
:class:`ShadowScorer`: the hot path appends them to a queue bounded in instances and returns (a full
queue drops them and counts the drop). A daemon thread wakes every ``BATCH_S`` seconds,
scores each queued request with the shadow version's codec (the same V1 path) and compares
the two answers: whether their alarm flags agree (the response model's ``positives``), and
the absolute difference of each numeric field (scores, forecasts, ETAs). The figures go to /metrics per model (see
:class:`ShadowMetrics`); the same thread picks up a new shadow version every poll. The
scoring takes at most a share of one core's time (SHADOW_BUDGET): under heavy traffic the
figures rest on a sample, and the request path keeps its throughput.
V2 requests are answered as usual and not shadowed.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from metrics_ai.artifacts import Manifest, ModelStore
from metrics_ai.errors import MetricsAIError
from metrics_ai.families.base import Family, HistoryFetcher, Predictor
from metrics_ai.settings import ShadowMode
from serving.codec import codec_for
from serving.codec_base import Codec, Flags
from serving.pool import fetch_budget

log = logging.getLogger(__name__)

#: seconds between the shadow thread's passes over the queue (one GIL hand-over per pass,
#: not one per request)
BATCH_S = 0.05
#: seconds of SHADOW_BUDGET that may accrue while idle (a burst after a quiet spell)
BURST_S = 5.0
#: nested answer fields deeper than this are not compared
MAX_DEPTH = 2


class ShadowMetrics:
    """The shadow figures on /metrics (one set per process, shared by every model's scorer)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.version_info = Gauge(
            "metrics_ai_shadow_version_info",
            "Version scoring requests in shadow beside the current one (value 1).",
            ["model", "version"],
            registry=registry,
        )
        self.requests = Counter(
            "metrics_ai_shadow_requests_total",
            "V1 requests the shadow version scored.",
            ["model"],
            registry=registry,
        )
        self.dropped = Counter(
            "metrics_ai_shadow_dropped_total",
            "V1 requests not shadowed: the queue was full (SHADOW_QUEUE) or the scoring had used its "
            "share of a core (SHADOW_BUDGET).",
            ["model"],
            registry=registry,
        )
        self.errors = Counter(
            "metrics_ai_shadow_errors_total",
            "V1 requests the shadow version failed to score (the current version answered them).",
            ["model"],
            registry=registry,
        )
        self.predictions = Counter(
            "metrics_ai_shadow_predictions_total",
            "Predictions compared between the current and the shadow version.",
            ["model"],
            registry=registry,
        )
        self.agreements = Counter(
            "metrics_ai_shadow_flag_agreements_total",
            "Compared predictions whose alarm flag (the family's positive) is the same in both versions.",
            ["model"],
            registry=registry,
        )
        self.agreement_ratio = Gauge(
            "metrics_ai_shadow_flag_agreement_ratio",
            "Share of compared predictions with the same alarm flag, since the shadow version was loaded.",
            ["model"],
            registry=registry,
        )
        self.abs_diff = Gauge(
            "metrics_ai_shadow_abs_diff",
            "Mean absolute difference of a numeric answer field (shadow - current), since the shadow "
            "version was loaded; field: the answer's key, nested ones joined by '.'.",
            ["model", "field"],
            registry=registry,
        )


def numeric_fields(answer: Mapping[str, Any], prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """The numeric leaves of a V1 answer: ``(field, number or list of numbers)``.

    Flags (booleans), strings and ``model_version`` are left out; nested objects give
    ``parent.child`` fields down to ``MAX_DEPTH``.
    """
    for key, value in answer.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool) or key == "model_version":
            continue
        numbers = isinstance(value, list) and bool(value) and all(_is_number(v) for v in value)
        if isinstance(value, int | float) or numbers:
            yield name, value
        elif isinstance(value, Mapping) and depth < MAX_DEPTH:
            yield from numeric_fields(value, f"{name}.", depth + 1)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def abs_diff(a: Any, b: Any) -> float | None:
    """Mean absolute difference of two numbers or two equally long lists (None: not comparable)."""
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return None
        return sum(abs(float(x) - float(y)) for x, y in zip(a, b, strict=True)) / len(a)
    return abs(float(b) - float(a))


@dataclass
class Agreement:
    """Running comparison of one shadow version with the current answers."""

    compared: int = 0
    agreed: int = 0
    diffs: dict[str, list[float]] = field(default_factory=dict)
    """field -> [sum of absolute differences, count]"""

    def add(self, current: Mapping[str, Any], shadow: Mapping[str, Any], flags: tuple[bool, bool]) -> bool:
        """Compare one pair of answers and their alarm flags; True if the flags agree."""
        same = bool(flags[0]) == bool(flags[1])
        self.compared += 1
        self.agreed += same
        theirs = dict(numeric_fields(shadow))
        for name, ours in numeric_fields(current):
            if name in theirs and (diff := abs_diff(ours, theirs[name])) is not None:
                total = self.diffs.setdefault(name, [0.0, 0])
                total[0] += diff
                total[1] += 1
        return same


@dataclass(frozen=True)
class _Shadow:
    predictor: Predictor
    codec: Codec
    manifest: Manifest


class ShadowScorer:
    """Scores one model's V1 requests with its shadow version on a daemon thread.

    Args:
        family: the served model's descriptor (its predictor class).
        store: the model's versions.
        mode: which version shadows (SHADOW; not ``off``).
        metrics: where the figures go.
        queue_size: V1 instances that may wait (SHADOW_QUEUE); a request that would pass it is dropped.
        poll_s: seconds between looks for a new shadow version (RELOAD_INTERVAL).
        fetcher: the live history source the current version uses, if any.
        fetch_budget_s: seconds of fetches one shadowed request may start.
        budget: share of one core's time the scoring may take (SHADOW_BUDGET); past it,
            queued requests are skipped (counted as dropped) until the allowance refills.
    """

    def __init__(
        self,
        family: Family[Any],
        store: ModelStore,
        mode: ShadowMode,
        metrics: ShadowMetrics,
        queue_size: int,
        poll_s: float,
        fetcher: HistoryFetcher | None = None,
        fetch_budget_s: float = 10.0,
        budget: float = 1.0,
    ) -> None:
        self.family, self.store, self.mode, self.metrics = family, store, mode, metrics
        self.budget = budget
        self._allowance = budget * BURST_S  # seconds of scoring left (a token bucket)
        self._refilled = time.monotonic()
        self.name = family.name
        self.queue_size = queue_size
        self.poll_s = poll_s if poll_s > 0 else 10.0
        self.fetcher = fetcher
        self.fetch_budget_s = fetch_budget_s
        self.agreement = Agreement()
        self._queue: collections.deque[tuple[list[Any], list[dict[str, Any]], Flags]] = collections.deque()
        self._queued = 0  # instances in the queue
        self._shadow: _Shadow | None = None
        self._failed: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"metrics-ai-shadow-{self.name}", daemon=True)
        self._dropped = metrics.dropped.labels(self.name)  # hot path: labels resolved once

    @property
    def version(self) -> str | None:
        """The version scoring in shadow, if any."""
        shadow = self._shadow
        return shadow.manifest.version if shadow else None

    def offer(self, instances: list[Any], answers: list[dict[str, Any]], flags: Flags) -> None:
        """Hand a request's instances, the current answers and their alarm flags over (never waits)."""
        if self._shadow is None:
            return
        if self._queued + len(instances) > self.queue_size:
            self._dropped.inc()
            return
        self._queued += len(instances)  # a lost update between threads only loosens the bound until the next pass
        self._queue.append((instances, answers, flags))

    def start(self) -> None:
        """Load the shadow version (if any) and start the thread."""
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current pass."""
        self._stop.set()

    def wanted(self) -> str | None:
        """The version that should shadow now (None: none)."""
        if self.mode == ShadowMode.pending:
            awaiting = self.store.awaiting_approval()
            return awaiting[-1] if awaiting else None
        current, rejected = self.store.current_version() or "", self.store.rejected()
        newer = [v for v in self.store.versions() if v > current and v not in rejected]
        return newer[-1] if newer else None

    def refresh(self) -> bool:
        """Load a new shadow version (or drop a stale one); True if it changed. Never raises."""
        try:
            wanted = self.wanted()
        except MetricsAIError as exc:
            log.error("%s: shadow: cannot read the versions: %s", self.name, exc)
            return False
        if wanted == self.version or (wanted is not None and wanted == self._failed):
            return False
        shadow = None
        if wanted is not None:
            try:
                manifest, folder = self.store.verify(wanted)
                predictor = self.family.predictor.load(folder, manifest)
                codec = codec_for(self.family, predictor)
                if len(codec.v1(instances := codec.smoke_instances()).predictions) != len(instances):
                    raise MetricsAIError("smoke request answered the wrong number of predictions")
                predictor.fetcher = self.fetcher
                shadow = _Shadow(predictor, codec, manifest)
            except Exception as exc:  # a broken candidate is reported, never shadows
                log.error("%s: shadow version %s failed to load: %s: %s", self.name, wanted, type(exc).__name__, exc)
                self._failed = wanted
                return False
        self._swap(shadow)
        return True

    def _swap(self, shadow: _Shadow | None) -> None:
        previous, stale = self.version, self.agreement
        self._shadow = shadow
        self._queue, self._queued = collections.deque(), 0
        self.agreement = Agreement()
        labelled = [(self.metrics.version_info, (self.name, previous)), (self.metrics.agreement_ratio, (self.name,))]
        labelled += [(self.metrics.abs_diff, (self.name, key)) for key in stale.diffs]
        for gauge, labels in labelled:  # the figures of the previous shadow version go
            with contextlib.suppress(KeyError):
                gauge.remove(*labels)
        if shadow is not None:
            self.metrics.version_info.labels(self.name, shadow.manifest.version).set(1)
        log.info("%s: shadow version %s (was %s)", self.name, self.version, previous)

    def score_pending(self) -> int:
        """Score everything queued, request by request; the number of requests scored.

        Each request is scored on its own: a family may read a request's rows as one
        sequence (anomaly-detector's consecutive rows), so requests are never concatenated.
        """
        shadow, batch = self._shadow, self._queue
        self._queue, self._queued = collections.deque(), 0
        if shadow is None or not batch:
            return 0
        now = time.monotonic()
        self._allowance = min(self._allowance + (now - self._refilled) * self.budget, self.budget * BURST_S)
        self._refilled = now
        scored = compared = agreed = failed = skipped = 0
        for instances, current, ours in batch:
            if self._allowance <= 0:
                skipped += 1
                continue
            start = time.perf_counter()
            try:
                with fetch_budget(self.fetch_budget_s):
                    theirs = shadow.codec.v1(instances)
                pairs = list(zip(current, theirs.predictions, zip(ours, theirs.flags, strict=True), strict=True))
            except Exception as exc:  # e.g. an entity the shadow version does not know: no figures
                failed += 1
                log.debug("%s: shadow %s failed on a request: %s", self.name, self.version, exc)
                pairs = []
            scored, compared = scored + bool(pairs), compared + len(pairs)
            agreed += sum(self.agreement.add(a, b, flags) for a, b, flags in pairs)
            self._allowance -= time.perf_counter() - start
        if skipped:
            self._dropped.inc(skipped)
        if failed:
            self.metrics.errors.labels(self.name).inc(failed)
        if scored:
            self._publish(scored, compared, agreed)
        return scored

    def _publish(self, requests: int, compared: int, agreed: int) -> None:
        m, name, totals = self.metrics, self.name, self.agreement
        m.requests.labels(name).inc(requests)
        m.predictions.labels(name).inc(compared)
        m.agreements.labels(name).inc(agreed)
        m.agreement_ratio.labels(name).set(totals.agreed / totals.compared)
        for key, (total, count) in totals.diffs.items():
            m.abs_diff.labels(name, key).set(total / count)

    def _run(self) -> None:
        next_poll = time.monotonic() + self.poll_s
        while not self._stop.wait(BATCH_S):
            try:
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.poll_s
                    self.refresh()
                self.score_pending()
            except Exception:  # the shadow thread must never die
                log.exception("%s: shadow pass failed", self.name)
