"""The loop: one pass every interval, published to the exporter; SIGTERM stops it cleanly.

A pass that fails logs loudly and counts in the health metrics; the process keeps
running (the next pass may succeed). A pass that overruns the interval is followed
by the next one at once, never by several to catch up.
"""

from __future__ import annotations

import logging
import threading
import time

from alerting.exporter import Exporter
from alerting.passes import Pass, PassResult
from alerting.snapshot import Snapshot

log = logging.getLogger("alerting")


class Runner:
    """Runs passes and publishes each one's snapshot; owns the health totals.

    Args:
        passes: the pass runner (clients, alarms).
        exporter: where snapshots are published.
        interval: seconds between pass starts.
    """

    def __init__(self, passes: Pass, exporter: Exporter, interval: float) -> None:
        self.passes = passes
        self.exporter = exporter
        exporter.registry.register(passes.accuracy)  # live accuracy beside the pass's snapshot
        self.interval = interval
        self.snapshot = Snapshot()
        self.stop_event = threading.Event()

    def run_once(self) -> Snapshot:
        """Run one pass, publish and return its snapshot."""
        started = time.monotonic()
        try:
            result = self.passes.run()
        except Exception:  # noqa: BLE001 - a bug in a pass must not end the exporter
            log.exception("pass failed unexpectedly")
            models = self.passes.options.models
            result = PassResult(errors={"alerting": 1}, failed_models=list(models), entities=dict.fromkeys(models, 0))
        duration = time.monotonic() - started
        outcome = result.outcome(self.passes.options.models)
        health = self.snapshot.health.after(outcome, result.errors, result.entities, duration, time.time())
        self.snapshot = Snapshot(tuple(result.samples), health)
        self.exporter.publish(self.snapshot)
        line = "pass %s in %.2f s: %d series, entities %s, errors %s"
        args = (outcome, duration, len(result.samples), result.entities, result.errors or "none")
        if outcome == "success":
            log.info(line, *args)
        else:
            log.error(line, *args)
        return self.snapshot

    def run_forever(self) -> None:
        """Pass after pass until :meth:`stop`."""
        while not self.stop_event.is_set():
            started = time.monotonic()
            self.run_once()
            self.stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self, *_: object) -> None:
        """Ask the loop to end after the pass in progress (a signal handler)."""
        self.stop_event.set()
