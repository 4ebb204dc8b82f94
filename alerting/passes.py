"""One pass: discover, read, call every model, turn answers into gauge samples.

Failures are per model: a read a model needs that failed counts an error for
``prometheus``, a call that failed counts one for the model; either way that model
contributes no series to the pass (never the previous pass's values). When discovery
itself fails, no model is called and the pass exposes no entity series at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from alerting import models
from alerting.accuracy import LiveAccuracy
from alerting.alarms import AlarmBank
from alerting.discovery import Inventory, discover
from alerting.gauges import Sample, samples
from alerting.inputs import InputBuilder, MissingDataError
from alerting.predictor import PredictorClient, PredictorError
from alerting.reads import Reader, Result, Window
from alerting.settings import AlertingSettings
from alerting.snapshot import PROMETHEUS
from metrics_ai.settings import Settings

log = logging.getLogger("alerting")


@dataclass
class PassResult:
    """What one pass produced."""

    samples: list[Sample] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    failed_models: list[str] = field(default_factory=list)
    inventory: Inventory | None = None

    def outcome(self, models: tuple[str, ...]) -> str:
        """success (no error), failed (discovery failed or no model answered), else partial."""
        if not self.errors:
            return "success"
        if self.inventory is None or set(self.failed_models) >= set(models):
            return "failed"
        return "partial"

    def count(self, name: str) -> None:
        """One more error for ``name`` (a model or prometheus)."""
        self.errors[name] = self.errors.get(name, 0) + 1


class Pass:
    """Runs passes with long-lived clients; the alarms carry state from pass to pass.

    Args:
        settings: the shared settings (Prometheus access, STEP, LOOKBACK_HOURS, ...).
        options: the client's settings.
        clock: unix seconds of "now" (tests evaluate as of the fixture's data end).
    """

    def __init__(self, settings: Settings, options: AlertingSettings, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.reader = Reader(settings, workers=options.fetch_workers)
        self.inputs = InputBuilder(settings, options.predictor_batch)
        self.client = PredictorClient(options)
        self.alarms = AlarmBank(settings.step)
        self.accuracy = LiveAccuracy()
        self.clock = clock
        self._calls = ThreadPoolExecutor(max_workers=len(options.models), thread_name_prefix="predictor")

    def close(self) -> None:
        """Release threads and connections."""
        self._calls.shutdown(wait=False, cancel_futures=True)
        self.reader.close()
        self.client.close()

    def run(self) -> PassResult:
        """One pass as of ``clock()``."""
        end = int(self.clock())
        result = PassResult()
        try:
            result.inventory = discover(self.reader, self.options.discovery_seconds, end)
        except Exception as exc:  # noqa: BLE001 - any failure fails the pass loudly, the loop goes on
            result.count(PROMETHEUS)
            result.failed_models = list(self.options.models)
            result.entities = dict.fromkeys(self.options.models, 0)
            log.error("pass failed: discovery from Prometheus failed: %s", exc)
            return result
        models = self.options.models
        reads = self.reader.read_all([w for m in models for w in self.inputs.windows(m)], end)
        for window, read in reads.items():
            if isinstance(read, Exception):
                result.count(PROMETHEUS)
                log.error("Prometheus read of %s failed: %s", window.signal, read)
        futures = {m: self._calls.submit(self._model, m, result.inventory, reads) for m in models}
        for model, future in futures.items():
            got, count, error = future.result()
            result.entities[model] = count
            if error is None:
                result.samples.extend(got)
                continue
            result.failed_models.append(model)
            if not isinstance(error, MissingDataError):  # read failures are counted once, above
                result.count(model)
            log.error("model %s failed this pass (its series are dropped): %s", model, error)
        return result

    def _model(
        self, model: str, inventory: Inventory, reads: Mapping[Window, Result]
    ) -> tuple[list[Sample], int, Exception | None]:
        """(samples, entities evaluated, error) of one model; never raises."""
        try:
            plan = self.inputs.plan(model, inventory, reads)
            out: list[Sample] = []
            for request in plan.requests:
                predictions = self.client.predict(model, request.instances)
                self.accuracy.observe(model, request.instances, request.labels, predictions)
                out.extend(samples(model, request, predictions, self.alarms))
            if model == models.FORECAST:
                self.alarms.retain((lab["entity"], lab["signal"]) for r in plan.requests for lab in r.labels)
            return out, plan.entities, None
        except Exception as exc:  # noqa: BLE001 - one model's failure must not stop the others
            if not isinstance(exc, MissingDataError | PredictorError):
                log.exception("model %s: unexpected error building its gauges", model)
            return [], 0, exc
