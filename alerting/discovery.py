"""Which clusters, nodes and filesystems exist now, from Prometheus.

An entity exists when the project's query for it has a value within the last
``discovery_seconds`` (ALERTING_DISCOVERY_SECONDS; Prometheus itself looks back 5 minutes
for the latest sample of each evaluation, so a target gone for less than both still
counts): nodes from host ``cpu`` (else
``memory``), filesystems from ``disk_used_pct``; a cluster exists while one of its
nodes does. Each pass discovers afresh, so a new node is picked up and a vanished
one (with its series) is gone at the next pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerting.reads import Reader, Window

NODE_SIGNALS: tuple[str, ...] = ("cpu", "memory")
DISK_SIGNAL = "disk_used_pct"
DISCOVERY_STEP = 60


@dataclass(frozen=True)
class Inventory:
    """The entities that exist now (canonical cluster names; "" for standalone nodes)."""

    nodes: frozenset[tuple[str, str]]
    """(cluster, node)."""
    filesystems: frozenset[tuple[str, str, str]]
    """(cluster, node, mountpoint)."""

    @property
    def clusters(self) -> list[str]:
        """Clusters with at least one node now, sorted ("" groups the standalone nodes)."""
        return sorted({cluster for cluster, _ in self.nodes})

    def nodes_of(self, cluster: str) -> list[str]:
        """The nodes of ``cluster`` that exist now, sorted."""
        return sorted(node for c, node in self.nodes if c == cluster)

    def __len__(self) -> int:
        return len(self.nodes) + len(self.filesystems)


def discovery_windows(reader: Reader, seconds: int) -> list[Window]:
    """The reads discovery needs (one node signal the queries file has, and disks)."""
    node_signal = next((s for s in NODE_SIGNALS if reader.has(s)), None)
    signals = [s for s in (node_signal, DISK_SIGNAL) if s and reader.has(s)]
    return [Window(s, seconds, DISCOVERY_STEP) for s in signals]


def discover(reader: Reader, seconds: int, end: int) -> Inventory:
    """The entities with a sample in the ``seconds`` before ``end``.

    Raises:
        UpstreamUnavailableError, UpstreamTimeoutError, PrometheusQueryError: Prometheus failed.
        ValueError: the queries file has no node and no disk query.
    """
    windows = discovery_windows(reader, seconds)
    if not windows:
        raise ValueError(f"the queries file has none of {[*NODE_SIGNALS, DISK_SIGNAL]}: nothing to discover")
    results = reader.read_all(windows, end)
    nodes: set[tuple[str, str]] = set()
    disks: set[tuple[str, str, str]] = set()
    for window, result in results.items():
        if isinstance(result, Exception):
            raise result
        for s in result:
            if not s.node:
                continue
            nodes.add((s.cluster, s.node))
            if window.signal == DISK_SIGNAL and s.mountpoint:
                disks.add((s.cluster, s.node, s.mountpoint))
    return Inventory(frozenset(nodes), frozenset(disks))
