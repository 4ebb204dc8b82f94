"""Shapes of the built-in synthetic clusters (``--profile``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SyntheticProfile(BaseModel):
    """How many clusters, nodes and disks the generator makes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    clusters: int = Field(ge=0)
    nodes_per_cluster: int = Field(ge=1)
    standalone_nodes: int = Field(ge=0)
    mountpoints: tuple[str, ...] = ("/", "/var/lib/containers", "/var/log")
    days: float | None = Field(None, gt=0)
    """Overrides TRAINING_DAYS when set."""


PROFILES: dict[str, SyntheticProfile] = {
    "demo": SyntheticProfile(name="demo", clusters=2, nodes_per_cluster=4, standalone_nodes=1),
    "cluster-100": SyntheticProfile(name="cluster-100", clusters=1, nodes_per_cluster=100, standalone_nodes=0),
    "tiny": SyntheticProfile(
        name="tiny", clusters=1, nodes_per_cluster=3, standalone_nodes=1, mountpoints=("/", "/var/log"), days=3
    ),
}


def get_profile(name: str) -> SyntheticProfile:
    """A named profile, or a clear error listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; expected one of {sorted(PROFILES)}") from None
