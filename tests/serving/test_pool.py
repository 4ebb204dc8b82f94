"""The worker pool: bounded (one more request than it holds is a 503 at once), slots freed when
the thread finishes, and the off-loop fetcher's guard and per-request budget."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping

import pytest
from prometheus_client import CollectorRegistry, Gauge

from metrics_ai.errors import ServerBusyError
from metrics_ai.series import History
from serving.pool import NeedsWorker, OffLoopFetcher, PredictionPool, fetch_budget


class CountingFetcher:
    """Answers None and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, signal: str, labels: Mapping[str, str], seconds: float, step: int) -> History | None:
        self.calls += 1
        return None


def test_pool_refuses_past_its_capacity_and_frees_slots() -> None:
    registry = CollectorRegistry()
    gauge = Gauge("pool_requests", "test", registry=registry)
    pool = PredictionPool(workers=1, queue=1, gauge=gauge)
    release = threading.Event()

    async def scenario() -> list[object]:
        held = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(2)]  # running + waiting
        await asyncio.sleep(0)
        assert registry.get_sample_value("pool_requests") == 2
        with pytest.raises(ServerBusyError) as busy:
            await pool.run(lambda: "never")
        assert busy.value.status == 503
        release.set()
        done = await asyncio.gather(*held)
        return [*done, await pool.run(lambda: "after")]

    try:
        assert asyncio.run(scenario()) == [True, True, "after"]
        assert registry.get_sample_value("pool_requests") == 0
    finally:
        pool.close()


def test_fetch_on_the_event_loop_asks_for_a_worker() -> None:
    inner = CountingFetcher()
    fetcher = OffLoopFetcher(inner)

    async def on_loop() -> None:
        fetcher.fetch("cpu", {"node": "n"}, 60, 60)

    with pytest.raises(NeedsWorker):
        asyncio.run(on_loop())
    assert inner.calls == 0
    assert fetcher.fetch("cpu", {"node": "n"}, 60, 60) is None  # off the loop it fetches
    assert inner.calls == 1


def test_spent_fetch_budget_fetches_nothing_more() -> None:
    inner = CountingFetcher()
    fetcher = OffLoopFetcher(inner)
    with fetch_budget(3600):
        fetcher.fetch("cpu", {"node": "n"}, 60, 60)
    with fetch_budget(-1):  # already spent
        assert fetcher.fetch("cpu", {"node": "n"}, 60, 60) is None
    assert inner.calls == 1
