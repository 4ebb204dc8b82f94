"""--source prometheus against a real Prometheus: chunking, values, data hygiene."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics_ai.prometheus import (
    MAX_FILL_STEPS,
    PrometheusClient,
    PrometheusQueryError,
    canonical_series,
    load_queries,
    plan_chunks,
)
from metrics_ai.series import SIGNALS
from metrics_ai.settings import Settings
from tests.prometheus_fixture import (
    CLUSTER,
    DUPLICATE,
    GAPS,
    LONG_GAP_DAYS,
    LONG_GAP_MIN,
    NAN_DAYS,
    NAN_MIN,
    NEW,
    NEW_DAYS,
    RESET,
    RESET_DAYS,
    SHORT_GAP_DAYS,
    SHORT_GAP_MIN,
    STALE,
    STANDALONE,
    VANISH_HOURS,
    VANISHED,
    PromData,
)
from training.sources.prometheus import read_prometheus

MIN = pd.Timedelta(minutes=1)
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Read:
    """One read_prometheus call over 15 days and what it logged."""

    frame: pd.DataFrame
    logs: list[str]
    end: pd.Timestamp
    """The fixture's last sample."""
    truth: pd.DataFrame


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def read_logged(settings: Settings, end: pd.Timestamp | None = None) -> tuple[pd.DataFrame, list[str]]:
    """read_prometheus (up to ``end``, default now) with its log messages."""
    logger = logging.getLogger("training.sources.prometheus")
    handler, level = _Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return read_prometheus(settings, end=end), handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
def read(prometheus_data: PromData) -> Read:
    # up to the data's end, not the wall clock: a loaded machine may start the fixture minutes earlier
    frame, logs = read_logged(Settings(prometheus_url=prometheus_data.url, training_days=15), prometheus_data.end)
    return Read(frame, logs, prometheus_data.end, prometheus_data.truth)


def series(frame: pd.DataFrame, signal: str, node: str, mountpoint: str = "") -> pd.Series:
    rows = frame[(frame["signal"] == signal) & (frame["node"] == node) & (frame["mountpoint"] == mountpoint)]
    return pd.Series(rows["value"].to_numpy(), index=pd.DatetimeIndex(rows["timestamp"]))


def between(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return s[(s.index >= start) & (s.index <= end)]


def test_chunked_15_day_query_equals_short_queries(prometheus_data: PromData) -> None:
    settings = Settings(prometheus_url=prometheus_data.url)
    query = load_queries(settings)["cpu"]
    end = int(prometheus_data.end.timestamp()) // 60 * 60  # the data's end, not "now": the session may be long
    start = end - 15 * 86400
    assert len(plan_chunks(start, end, 60)) == 2
    with pytest.raises(PrometheusQueryError, match="11,000"):  # why chunks: one query is refused
        PrometheusClient(settings, max_points=10**9, retries=0).query_range(query, start, end, 60)
    api = PrometheusClient(settings)
    chunked = {tuple(sorted(s.labels.items())): s for s in api.query_range(query, start, end, 60)}
    pieces: dict[tuple[tuple[str, str], ...], list[tuple[np.ndarray, np.ndarray]]] = {}
    for day in range(16):
        a, b = start + day * 86400, min(start + (day + 1) * 86400 - 60, end)
        for s in api.query_range(query, a, b, 60):  # 1,440 points: one request each
            pieces.setdefault(tuple(sorted(s.labels.items())), []).append((s.timestamps, s.values))
    assert set(pieces) == set(chunked) and len(chunked) >= 6
    for key, parts in pieces.items():
        assert np.array_equal(np.concatenate([p[0] for p in parts]), chunked[key].timestamps)
        assert np.array_equal(np.concatenate([p[1] for p in parts]), chunked[key].values)
    full = chunked[(("cluster", CLUSTER), ("instance", f"{DUPLICATE}:9100"))]
    assert len(full.timestamps) == 21_601  # START_HOURS_AGO 360 at STEP 60s, plus the end point


def test_every_signal_and_entity_is_read(read: Read) -> None:
    frame = read.frame
    assert set(frame["signal"].astype(str)) == set(SIGNALS)
    nodes = {f"{CLUSTER}-worker-{i}" for i in range(5)}
    assert set(frame.loc[frame["signal"] == "cpu", "node"].astype(str)) == nodes | {STANDALONE}
    assert set(frame.loc[frame["signal"] == "pod_cpu", "node"].astype(str)) == nodes
    assert set(frame.loc[frame["node"] == STANDALONE, "cluster"].astype(str)) == {""}
    assert not frame["anomaly"].any()
    assert np.isfinite(frame["value"]).all()


@pytest.mark.parametrize(
    ("signal", "mountpoint", "scale", "tolerance"),
    [("cpu", "", 1, 0.03), ("memory", "", 1, 0.02), ("io_wait", "", 1, 0.05), ("net_rx", "", 1, 0.03),
     ("net_tx", "", 1, 0.03), ("pod_cpu", "", 1, 0.03), ("pod_mem", "", 1, 0.02),
     ("pod_restarts", "", 1 / 300, 0.3), ("disk_used_pct", "/", 1, 0.02), ("disk_used_pct", "/var/log", 1, 0.02)],
)
def test_values_match_the_generator(read: Read, signal: str, mountpoint: str, scale: float, tolerance: float) -> None:
    """worker-0 is scraped twice, has a pod-level cAdvisor series and two kube-state-metrics."""
    start, end = read.end - 2 * DAY, read.end - DAY
    got = between(series(read.frame, signal, DUPLICATE, mountpoint), start, end)
    truth = between(series(read.truth, signal, DUPLICATE, mountpoint), start, end)
    assert len(got) >= 1400
    assert got.mean() == pytest.approx(truth.mean() * scale, rel=tolerance)


def test_network_in_counts_every_interface_net_rx_only_physical_ones(read: Read) -> None:
    start, end = read.end - 2 * DAY, read.end - DAY
    def extra(node: str) -> float:
        total = between(series(read.frame, "network_in", node), start, end)
        physical = between(series(read.frame, "net_rx", node), start, end)
        return float((total - physical).mean())
    assert extra(DUPLICATE) == pytest.approx(2e4 + 5e5, rel=0.02)  # lo + veth
    assert extra(RESET) == pytest.approx(2e4, rel=0.02)  # lo


def test_pseudo_and_read_only_filesystems_are_excluded(read: Read) -> None:
    disks = read.frame[(read.frame["signal"] == "disk_used_pct") & (read.frame["node"] == DUPLICATE)]
    assert set(disks["mountpoint"].astype(str)) == {"/", "/var/log"}


def test_nan_samples_are_dropped_and_left_as_gaps(read: Read) -> None:
    memory = series(read.frame, "memory", RESET)
    nan_start = read.end - NAN_DAYS * DAY
    assert len(between(memory, nan_start + 6 * MIN, nan_start + (NAN_MIN - 2) * MIN)) == 0
    assert len(between(memory, nan_start - 10 * MIN, nan_start - MIN)) == 10
    assert any("memory: dropped" in m and "NaN" in m for m in read.logs)


def test_short_gaps_are_filled_long_gaps_stay(read: Read, prometheus_data: PromData) -> None:
    memory = series(read.frame, "memory", GAPS)
    short = read.end - SHORT_GAP_DAYS * DAY
    window = (short - 2 * MIN, short + (SHORT_GAP_MIN + 2) * MIN)
    assert len(between(memory, *window)) == SHORT_GAP_MIN + 5, "every step of a short gap is filled"
    settings = Settings(prometheus_url=prometheus_data.url)
    raw = PrometheusClient(settings).query_range(
        load_queries(settings)["memory"], window[0].timestamp(), window[1].timestamp(), 60
    )
    unfilled = [s for s in canonical_series(raw, "memory", "cluster")[0] if s.node == GAPS][0]
    missing = SHORT_GAP_MIN + 5 - len(unfilled.values)
    assert 0 < missing <= MAX_FILL_STEPS, "Prometheus itself left a hole there"
    long_gap = read.end - LONG_GAP_DAYS * DAY
    assert len(between(memory, long_gap + 6 * MIN, long_gap + (LONG_GAP_MIN - 2) * MIN)) == 0


def test_counter_reset_gives_no_negative_or_huge_rates(read: Read) -> None:
    reset = read.end - RESET_DAYS * DAY
    for signal in ("cpu", "net_rx", "pod_cpu"):
        got = between(series(read.frame, signal, RESET), reset - 30 * MIN, reset + 30 * MIN)
        truth = between(series(read.truth, signal, RESET), reset - 30 * MIN, reset + 30 * MIN)
        assert len(got) >= 55
        assert got.min() >= 0 and got.max() <= 1.5 * truth.max(), signal


def test_raw_counter_queries_are_converted_with_resets(prometheus_data: PromData, tmp_path: Path) -> None:
    queries = tmp_path / "queries.yaml"
    overrides = {signal: "null" for signal in SIGNALS}
    overrides["net_rx"] = 'node_network_receive_bytes_total{device="eth0"}'
    queries.write_text("".join(f"{k}: {v}\n" for k, v in overrides.items()))
    settings = Settings(prometheus_url=prometheus_data.url, training_days=6, start_hours_ago=144, queries_file=queries)
    frame, logs = read_logged(settings)
    assert set(frame["signal"].astype(str)) == {"net_rx"}
    assert any("raw counter" in m for m in logs)
    reset = prometheus_data.end - RESET_DAYS * DAY
    got = between(series(frame, "net_rx", RESET), reset - 60 * MIN, reset + 60 * MIN)
    truth = between(series(prometheus_data.truth, "net_rx", RESET), reset - 60 * MIN, reset + 60 * MIN)
    assert got.min() >= 0 and got.max() <= 2.5 * truth.max()
    assert got.mean() == pytest.approx(truth.mean(), rel=0.1)


def test_stale_series_are_dropped_and_logged(read: Read) -> None:
    assert STALE not in set(read.frame["node"].astype(str))
    assert any(m.startswith("stale:") and STALE in m for m in read.logs)


def test_duplicate_series_from_two_scrapers_are_deduplicated(read: Read) -> None:
    duplicates = [m for m in read.logs if "duplicate series" in m and DUPLICATE in m]
    assert any(m.startswith("memory:") and "node-exporter-federated" in m for m in duplicates)
    assert any(m.startswith("disk_used_pct:") for m in duplicates)
    memory = series(read.frame, "memory", DUPLICATE)
    assert memory.index.is_unique and len(memory) == 21_601


def test_series_starting_mid_window_are_kept(read: Read) -> None:
    new = read.frame[read.frame["node"] == NEW]
    assert set(new["signal"].astype(str)) == set(SIGNALS)
    first = new["timestamp"].min()
    assert abs(first - (read.end - NEW_DAYS * DAY)) <= 10 * MIN
    assert any(NEW in m and "starts mid-window" in m for m in read.logs)


def test_vanished_nodes_are_kept_for_what_they_have(read: Read) -> None:
    gone = read.frame[read.frame["node"] == VANISHED]
    assert set(gone["signal"].astype(str)) == set(SIGNALS)
    last = gone["timestamp"].max()
    hour = pd.Timedelta(hours=1)
    assert read.end - VANISH_HOURS * hour - 10 * MIN <= last <= read.end - (VANISH_HOURS - 0.5) * hour
    assert len(gone[gone["signal"] == "cpu"]) > 14 * 1440
    assert any(VANISHED in m and "vanished" in m for m in read.logs)
