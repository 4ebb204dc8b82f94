"""Executors without Ray: per-series isolation, ordered results, what ran where, loopback detection."""

from __future__ import annotations

import os

import pytest

from metrics_ai.settings import load_settings
from training.executor import LocalExecutor, RayExecutor, describe, make_executor
from training.ray_local import is_loopback_address


def square_or_fail(x: int) -> int:
    """A fit that fails on negative input (module level: picklable for loky)."""
    if x < 0:
        raise ValueError(f"negative {x}")
    return x * x


def test_local_map_isolates_failures_keeps_order_and_records() -> None:
    executor = LocalExecutor(workers=1)
    seen: list[tuple[int, int | None, str]] = []
    items = [("c", 3), ("a", -1), ("b", 2)]
    results = executor.map(square_or_fail, items, "toy", lambda d, t, s: seen.append((d, t, s)))
    assert list(results) == ["c", "a", "b"]
    assert results["c"].value == 9 and results["b"].value == 4
    assert not results["a"].ok and "ValueError: negative -1" in (results["a"].error or "")
    assert seen == [(1, 3, "toy")] * 3
    [record] = executor.records
    assert (record.backend, record.tasks, record.failed, record.processes, record.nodes) == ("local", 3, 1, 1, 1)
    assert results["c"].pid == os.getpid()  # one worker: inline
    meta = describe(executor.name, executor.address, executor.records)
    assert meta["backend"] == "local" and "address" not in meta and meta["maps"][0]["tasks"] == 3


def test_local_pool_runs_in_worker_processes() -> None:
    executor = LocalExecutor(workers=2)
    results = executor.map(square_or_fail, [(str(i), i) for i in range(6)], "toy")
    assert [r.value for r in results.values()] == [i * i for i in range(6)]
    assert os.getpid() not in {r.pid for r in results.values()}
    assert 1 <= executor.records[0].processes <= 2


def test_make_executor_follows_settings() -> None:
    assert isinstance(make_executor(load_settings(ray_address=None, workers=3)), LocalExecutor)
    ray = make_executor(load_settings(ray_address="ray://head-svc:10001"))
    assert isinstance(ray, RayExecutor) and ray.address == "ray://head-svc:10001"  # connects lazily


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:6379", True),
        ("localhost:6379", True),
        ("[::1]:6379", True),
        ("127.0.0.1", True),
        ("192.0.2.2:6379", False),
        ("ray://127.0.0.1:10001", False),
        ("ray://metrics-ai-head-svc:10001", False),
        ("auto", False),
        ("head-svc:6379", False),
    ],
)
def test_loopback_address(address: str, loopback: bool) -> None:
    assert is_loopback_address(address) is loopback
