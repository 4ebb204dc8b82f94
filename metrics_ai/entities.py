"""Which series a crossing model (disk-eta, io-crisis) means: keys with the cluster in them.

The same node name in two clusters behind one Thanos is two entities, so a series is
keyed by (cluster, node, mountpoint) or (cluster, node, signal). A request may leave
the cluster out when the node's name is unambiguous (:class:`EntityIndex`).
"""

from __future__ import annotations

from collections.abc import Iterable

from metrics_ai.errors import RowError

Key = tuple[str, str, str]
"""A crossing model's series: (cluster, node, mountpoint) for disk-eta, (cluster, node, signal) for io-crisis.

The cluster is part of the key: the same node name in two clusters behind one Thanos is
two entities. ``""`` is a standalone node (or a model saved before the cluster was kept)."""


def entity_name(cluster: str, node: str) -> str:
    """``cluster/node``, or the node alone when it is standalone."""
    return f"{cluster}/{node}" if cluster else node


def entity_labels(cluster: str, node: str, **more: str) -> dict[str, str]:
    """The fetcher's labels of one series (no ``cluster`` for a standalone node)."""
    return {**({"cluster": cluster} if cluster else {}), "node": node, **more}


class EntityIndex:
    """Finds a series' key from a request that may leave the cluster out."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self._clusters: dict[tuple[str, str], list[str]] = {}
        for cluster, node, part in sorted(keys):
            self._clusters.setdefault((node, part), []).append(cluster)

    def resolve(self, cluster: str | None, node: str, part: str, row: int) -> Key:
        """The key request row ``row`` names; without ``cluster``, the node's only cluster.

        Raises:
            RowError: no ``cluster`` and the node is known in several clusters (400 naming
                the row's ``cluster``).
        """
        if cluster is not None:
            return (cluster, node, part)
        clusters = self._clusters.get((node, part), [])
        if len(clusters) > 1:
            raise RowError(
                ("cluster", row),
                f'node {node!r} is in several clusters {clusters}; say which with "cluster"',
            )
        return (clusters[0] if clusters else "", node, part)
