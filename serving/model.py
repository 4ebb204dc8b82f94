"""The thin KServe adapter: load a verified version, answer V1 and V2, hot-swap on change."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from math import prod
from typing import TYPE_CHECKING, Any

import kserve
import numpy as np
import orjson
from kserve import InferRequest, InferResponse
from kserve.errors import ModelNotReady

from metrics_ai.artifacts import Manifest, ModelStore
from metrics_ai.drift import LiveWindow
from metrics_ai.errors import InvalidInputError, MetricsAIError, MissingArtifactError
from metrics_ai.families.base import Family, HistoryFetcher, Predictor
from serving.codec import codec_for
from serving.codec_base import Codec
from serving.errors import grpc_error
from serving.limits import RequestLimits
from serving.metadata import tensor_metadata
from serving.metrics import ServingMetrics
from serving.pool import NeedsWorker, OffLoopFetcher, PredictionPool, fetch_budget, on_event_loop
from serving.recovery import failure_reason, fallback_candidates
from serving.tensor_specs import input_specs, output_specs
from serving.v2 import encode_outputs

if TYPE_CHECKING:
    from serving.shadow import ShadowScorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """A loaded version: swapped as one reference, so a request sees one consistent pair."""

    predictor: Predictor
    manifest: Manifest
    codec: Codec
    """The predictor behind the protocols (V1 and V2 in, answers out)."""
    drift: LiveWindow | None = None
    """Its live drift window (None: drift monitoring off, or no reference in the version)."""


class ServedModel(kserve.Model):
    """Serves the current version of one model from ``<model-dir>/<name>/``.

    Readiness tells the truth: ``ready`` is True only once a version has been verified
    (sha256 of every file), loaded and has answered its smoke request. A newer version
    that fails any of that is reported and the old one keeps serving. ``family`` says
    which predictor class loads it and what counts as an alarm.
    """

    def __init__(
        self,
        family: Family[Any],
        store: ModelStore,
        metrics: ServingMetrics,
        fetcher: HistoryFetcher | None = None,
        *,
        pool: PredictionPool | None = None,
        limits: RequestLimits | None = None,
        inline_max_bytes: int = 0,
        fetch_budget_s: float = 10.0,
    ) -> None:
        """Args beyond the family, store and metrics: the live history source, the worker pool
        that answers requests over ``inline_max_bytes`` (None: all inline), the request limits
        and the seconds of fetches one request may start."""
        super().__init__(family.name)
        self.family = family
        self.store = store
        self.metrics = metrics
        # with a pool, a fetch never waits on the event loop: such requests move to a worker
        self.fetcher: HistoryFetcher | None = OffLoopFetcher(fetcher) if fetcher and pool else fetcher
        self.pool = pool
        self.limits = limits
        self.inline_max_bytes = inline_max_bytes
        self.fetch_budget_s = fetch_budget_s
        self.ready = False
        self.last_error: str | None = None
        self._loaded: Loaded | None = None
        self._failed_versions: set[str] = set()  # not retried until the next re-verification
        self._reported: set[tuple[str | None, str, str]] = set()  # failures logged and counted
        self._fallback_tried = False
        self._stopped = False
        self._lock = threading.Lock()
        self.shadow: ShadowScorer | None = None
        """Also scores V1 requests with a newer version, off the request path (SHADOW)."""
        self._ok = metrics.predictions.labels(self.name, "ok")  # hot path: resolve labels once
        metrics.ready.labels(self.name).set(0)
        metrics.fallback.labels(self.name).set(0)
        metrics.drift.watch(self.name, lambda: self._loaded.drift if self._loaded else None)

    @property
    def version(self) -> str | None:
        """The version now answering, if any."""
        loaded = self._loaded
        return loaded.manifest.version if loaded else None

    # --- lifecycle ----------------------------------------------------------
    def load(self) -> bool:
        """Load the current version if there is a new one; never raises.

        On the event loop (KServe calls this for a request to a model that is not ready)
        nothing is read: the reload watcher loads versions, requests never pay for it.
        """
        if not on_event_loop():
            self.refresh()
        return self.ready

    def stop(self) -> None:
        """Unloaded through the model repository API: not ready (and not counted) until resumed."""
        self._stopped = True
        self._publish_ready()

    def resume(self) -> bool:
        """Loaded again through the model repository API: ready if a version is loaded."""
        self._stopped = False
        self._publish_ready()
        return self.ready

    def _publish_ready(self) -> None:
        self.ready = self._loaded is not None and not self._stopped
        self.metrics.ready.labels(self.name).set(1 if self.ready else 0)

    def refresh(self) -> bool:
        """Pick up a newly current version (publish or rollback). True if it switched.

        With nothing loaded (at start), a current version that cannot be served gives way to
        the most recently current version that verifies, loads and answers (logged, and
        ``metrics_ai_model_fallback`` 1 until ``manifest.json`` names a servable version).
        """
        if not self._lock.acquire(blocking=False):
            return False  # a reload is already running
        try:
            return self._refresh()
        finally:
            self._lock.release()

    def reverify(self) -> None:
        """Check the serving version's files on disk again; report one that no longer verifies.

        The loaded state was verified when it was read and answers from memory, so the model
        stays ready: a version deleted or altered on disk is logged and counted (reason
        ``missing`` or ``checksum``) at every check until fixed; a restart would fall back.
        Failures already reported are forgotten here, so a persisting one is reported (and
        retried) once per check, and an alert on the counter's increase keeps firing.
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._reported.clear()
            self._failed_versions.clear()
            self._fallback_tried = False
            loaded = self._loaded
            if loaded is not None:
                try:
                    self.store.verify(loaded.manifest.version)
                except Exception as exc:
                    self._note_failure(loaded.manifest.version, exc, "no longer verifies on disk")
        finally:
            self._lock.release()

    def note_hung(self, seconds: float) -> None:
        """Report a reload or re-verification that has been reading for ``seconds`` (a stuck volume)."""
        self._note_failure(None, TimeoutError(f"reading {self.store.dir} has not returned for {seconds:.0f} s"), "hung")

    def _refresh(self) -> bool:
        try:
            wanted = self.store.current()
        except MissingArtifactError as exc:
            if not self.store.versions():
                self.last_error = f"nothing published yet: {exc}"
                return False
            self._note_failure(None, exc)
            return self._loaded is None and self._fall_back(None)
        except MetricsAIError as exc:
            pointer = self.store.current_pointer()
            self._note_failure(pointer, exc)
            return self._loaded is None and self._fall_back(pointer)
        if wanted.version == self.version:
            self.metrics.fallback.labels(self.name).set(0)  # serving what manifest.json names
            return False
        if wanted.version in self._failed_versions:
            return False
        if self._swap_in(wanted.version):
            self.metrics.fallback.labels(self.name).set(0)
            return True
        return self._loaded is None and self._fall_back(wanted.version)

    def _fall_back(self, failed: str | None) -> bool:
        """Load the most recently current version that serves, once per re-verification interval."""
        if self._fallback_tried:
            return False
        self._fallback_tried = True
        for version in fallback_candidates(self.store, failed):
            if self._swap_in(version):
                self.metrics.fallback.labels(self.name).set(1)
                log.error(
                    "%s: manifest.json names %s, which cannot be served; serving %s, the most recently "
                    "current version that verifies (fallback)",
                    self.name,
                    failed or "no readable version",
                    version,
                )
                return True
        return False

    def _swap_in(self, version: str) -> bool:
        """Verify, load and smoke-test ``version``; swap it in if all of that passes."""
        start = time.perf_counter()
        try:
            manifest, folder = self.store.verify(version)
            predictor = self.family.predictor.load(folder, manifest)
            codec = codec_for(self.family, predictor)
            instances = codec.smoke_instances()  # answered from the version itself, no fetch
            if len(codec.v1(instances).predictions) != len(instances):
                raise MetricsAIError("smoke request answered the wrong number of predictions")
            predictor.fetcher = self.fetcher
            drift = self.metrics.drift.window_for(self.name, predictor, folder, manifest)
        except Exception as exc:  # any failure keeps the old version serving
            self._note_failure(version, exc)
            return False
        previous = self.version
        self._loaded = Loaded(predictor, manifest, codec, drift)
        self._publish_ready()
        self.last_error = None
        self.metrics.reload_seconds.labels(self.name).observe(time.perf_counter() - start)
        if previous is not None:
            self.metrics.version_info.remove(self.name, previous)
            self.metrics.reloads.labels(self.name).inc()
        self.metrics.version_info.labels(self.name, manifest.version).set(1)
        self.metrics.artifact_created.labels(self.name).set(manifest.created_at.timestamp())
        log.info("%s: serving version %s (was %s)", self.name, manifest.version, previous)
        return True

    def _note_failure(self, version: str | None, exc: Exception, what: str = "failed to load") -> None:
        """Log and count a failure once (until the next re-verification forgets it)."""
        reason = failure_reason(exc)
        message = f"{type(exc).__name__}: {exc}"
        if (version, reason, message) not in self._reported:
            self._reported.add((version, reason, message))
            self.metrics.reload_failures.labels(self.name, reason).inc()
            subject = "reload" if what == "hung" else f"version {version or '(manifest.json unreadable)'}"
            log.error(
                "%s: %s %s (%s), %s: %s",
                self.name,
                subject,
                what,
                reason,
                f"still serving {self.version}" if self._loaded else "not ready",
                message,
            )
        if version is not None:
            self._failed_versions.add(version)
        self.last_error = message
        self._publish_ready()

    # --- metadata (GET /v2/models/<name>, gRPC ModelMetadata) -------------------
    def get_input_types(self) -> list[dict[str, Any]]:
        """The V2 inputs the family declares: name, datatype, shape (-1: variable)."""
        return tensor_metadata(input_specs(self.family))

    def get_output_types(self) -> list[dict[str, Any]]:
        """The V2 outputs the family answers: name, datatype, shape (-1: variable)."""
        return tensor_metadata(output_specs(self.family))

    # --- inference ------------------------------------------------------------
    async def predict(
        self, payload: dict[str, Any] | InferRequest, headers: dict[str, str] | None = None
    ) -> dict[str, Any] | InferResponse:
        """V1 ``{"instances": [...]}`` or a V2 InferRequest (REST or gRPC).

        Small requests are answered here on the event loop; larger ones, and any that
        needs a Prometheus fetch, on the worker pool.
        """
        loaded = self._loaded
        grpc = isinstance(payload, InferRequest) and payload.from_grpc
        if loaded is None or not self.ready:
            self.metrics.predictions.labels(self.name, "not_ready").inc()
            raise ModelNotReady(self.name, self.last_error)
        work: Callable[[], dict[str, Any] | InferResponse] = partial(self._answer, loaded, payload)
        try:
            if self.pool is None:
                result = work()
            elif self._small(payload, headers):
                try:
                    result = work()
                except NeedsWorker:
                    result = await self.pool.run(work)
            else:
                result = await self.pool.run(work)
        except MetricsAIError as exc:
            self.metrics.predictions.labels(self.name, f"error_{int(exc.status)}").inc()
            if grpc:  # the gRPC interceptor maps KServe's and grpc_interceptor's errors only
                raise grpc_error(exc) from None
            raise
        self._ok.inc()
        return result

    def _small(self, payload: Any, headers: dict[str, str] | None) -> bool:
        """Whether a request is cheap enough to answer on the event loop.

        REST: by its body's length; gRPC (no length): by its declared tensor elements.
        """
        length = (headers or {}).get("content-length")
        if length is not None:
            return length.isdigit() and int(length) <= self.inline_max_bytes
        if isinstance(payload, InferRequest):
            return sum(prod(int(d) for d in t.shape) for t in payload.inputs) * 8 <= self.inline_max_bytes
        return False

    def _answer(self, loaded: Loaded, payload: Any) -> dict[str, Any] | InferResponse:
        with fetch_budget(self.fetch_budget_s):
            if isinstance(payload, InferRequest):
                return self._infer_v2(loaded, payload)
            return self._predict_v1(loaded, payload)

    def _predict_v1(self, loaded: Loaded, payload: Any) -> dict[str, Any]:
        if isinstance(payload, bytes | str):  # a JSON body sent without a JSON content type
            try:
                payload = orjson.loads(payload)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError("body", f"not valid JSON: {exc}") from None
        if not isinstance(payload, dict) or "instances" not in payload:
            raise InvalidInputError("instances", 'expected a JSON object {"instances": [...]}')
        instances = payload["instances"]
        if not isinstance(instances, list) or not instances:
            raise InvalidInputError("instances", "expected a non-empty list")
        if self.limits is not None:
            self.limits.check_v1(instances)
        answer = loaded.codec.v1(instances)
        predictions = answer.predictions
        version = loaded.manifest.version
        for prediction in predictions:
            prediction["model_version"] = version
        positives = int(np.count_nonzero(answer.flags))
        if positives:
            self.metrics.positives.labels(self.name).inc(positives)
        if loaded.drift is not None:
            loaded.drift.observe(*answer.observed)
        if self.shadow is not None:
            self.shadow.offer(instances, predictions, answer.flags)
        return {"predictions": predictions}

    def _infer_v2(self, loaded: Loaded, request: InferRequest) -> InferResponse:
        answer = loaded.codec.v2(request, self.limits)
        if loaded.drift is not None:
            loaded.drift.observe(*answer.observed)
        return encode_outputs(request, self.name, loaded.manifest.version, answer.outputs)
