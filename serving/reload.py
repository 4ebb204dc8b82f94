"""Poll each model's manifest and hot-swap new versions (publish or rollback), no restart."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from serving.model import ServedModel

log = logging.getLogger(__name__)


class ReloadWatcher:
    """A daemon thread that calls ``refresh()`` on every model each ``interval`` seconds.

    Loading happens off the event loop; the swap is one reference assignment, so
    requests in flight finish on the version they started with.
    """

    def __init__(self, models: Sequence[ServedModel], interval: float) -> None:
        self.models = list(models)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-ai-reload", daemon=True)

    def start(self) -> None:
        """Start polling (no-op when the interval is 0)."""
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()

    def poll_once(self) -> list[str]:
        """Refresh every model once; the names of those that switched."""
        switched = []
        for model in self.models:
            try:
                if model.refresh():
                    switched.append(model.name)
            except Exception:  # the watcher must never die
                log.exception("%s: refresh failed", model.name)
        return switched

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll_once()
