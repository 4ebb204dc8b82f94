"""Poll each model's manifest and hot-swap new versions (publish or rollback), no restart.

Each model reloads on its own thread: a read that hangs on one model's volume (a stuck
NFS or CephFS mount) stops only that model's reloads. A supervisor reports a reload
that has been reading for longer than RELOAD_TIMEOUT (log line, and
``metrics_ai_reload_failures_total{reason="timeout"}``); Python cannot interrupt a blocked
read, so that model keeps serving what it has in memory until the read returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial

from serving.model import ServedModel

log = logging.getLogger(__name__)


class _Poller:
    """One model's reload thread state: since when its current step has been running."""

    def __init__(self, model: ServedModel) -> None:
        self.model = model
        self.busy_since: float | None = None
        self.reported = False

    def step(self, action: Callable[[], object]) -> None:
        """Run one refresh, load or re-verification; never raises (the thread must not die).

        Skipped while another step of this model is still running (a load hung at start).
        """
        if self.busy_since is not None:
            return
        self.busy_since = time.monotonic()
        try:
            action()
        except Exception:
            log.exception("%s: reload failed", self.model.name)
        finally:
            if self.reported:
                log.warning("%s: the hung reload returned after %.0f s", self.model.name, self._elapsed())
            self.busy_since = None
            self.reported = False

    def _elapsed(self) -> float:
        since = self.busy_since
        return 0.0 if since is None else time.monotonic() - since


class ReloadWatcher:
    """Daemon threads, one per model: ``refresh()`` every ``interval`` seconds and ``reverify()``
    every ``reverify_interval`` (0: never); a supervisor reports steps past ``timeout``.

    Loading happens off the event loop; the swap is one reference assignment, so
    requests in flight finish on the version they started with.
    """

    def __init__(
        self, models: Sequence[ServedModel], interval: float, timeout: float, reverify_interval: float = 0.0
    ) -> None:
        self.pollers = [_Poller(model) for model in models]
        self.interval = interval
        self.timeout = timeout
        self.reverify_interval = reverify_interval
        self._stop = threading.Event()

    def load_all(self) -> None:
        """Load every model at start, each on its own thread, waiting at most ``timeout`` seconds in all.

        A model still reading then is reported as hung and stays not ready; it is served once
        its read returns.
        """
        threads = [self._thread(poller, partial(poller.step, poller.model.load), "load") for poller in self.pollers]
        deadline = time.monotonic() + self.timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.report_hung(started_before=time.monotonic())  # whatever still reads has taken the timeout

    def start(self) -> None:
        """Start polling (no-op when the interval is 0)."""
        if self.interval <= 0:
            return
        for poller in self.pollers:
            self._thread(poller, partial(self._poll, poller), "reload")
        threading.Thread(target=self._supervise, name="metrics-ai-reload-supervisor", daemon=True).start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()

    def report_hung(self, started_before: float | None = None) -> list[str]:
        """Report (once per hang) each model whose step started before ``started_before``
        (default: ``timeout`` seconds ago); the names reported."""
        limit = time.monotonic() - self.timeout if started_before is None else started_before
        hung = []
        for poller in self.pollers:
            since = poller.busy_since
            if since is not None and since <= limit and not poller.reported:
                poller.reported = True
                poller.model.note_hung(time.monotonic() - since)
                hung.append(poller.model.name)
        return hung

    def _thread(self, poller: _Poller, target: Callable[[], None], kind: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=f"metrics-ai-{kind}-{poller.model.name}", daemon=True)
        thread.start()
        return thread

    def _poll(self, poller: _Poller) -> None:
        next_check = time.monotonic() + self.reverify_interval
        while not self._stop.wait(self.interval):
            poller.step(poller.model.refresh)
            if self.reverify_interval > 0 and time.monotonic() >= next_check:
                poller.step(poller.model.reverify)
                next_check = time.monotonic() + self.reverify_interval

    def _supervise(self) -> None:
        while not self._stop.wait(min(self.interval, self.timeout) / 2):
            self.report_hung()
