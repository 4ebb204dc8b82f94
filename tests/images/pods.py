"""A chart's pod, run from an image: the rendered container's command, env and volumes.

What the chart renders (command, args, env, volumeMounts, volumes) is what runs: the
container's literal environment over the image's ENV, its emptyDirs as fresh host folders,
its PersistentVolumeClaim as the models folder, its ConfigMaps as empty read-only folders
(the chart marks them optional), everything else of the image read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.images import podman


def container_env(container: Mapping[str, Any]) -> dict[str, str]:
    """A rendered container's literal environment (``valueFrom`` entries have no value here)."""
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def pod_env(image: podman.ImageConfig, container: Mapping[str, Any]) -> dict[str, str]:
    """The process environment: the image's ENV, then the container's (as the kubelet merges them)."""
    return {**image.env, **container_env(container)}


def pod_mounts(
    container: Mapping[str, Any], volumes: list[dict[str, Any]], models: Path, scratch: Path
) -> list[podman.Mount]:
    """The container's volumeMounts as host binds, each volume made as its kind says.

    emptyDir: a fresh folder anyone writes (mode 1777, as the kubelet makes it); a
    persistentVolumeClaim: ``models``; a configMap or secret: an empty read-only folder.
    """
    by_name = {v["name"]: v for v in volumes}
    mounts = []
    for mount in container.get("volumeMounts", []):
        volume, read_only = by_name[mount["name"]], bool(mount.get("readOnly"))
        if "emptyDir" in volume:
            source = podman.volume(scratch / mount["name"], 0o1777)
        elif "persistentVolumeClaim" in volume:
            source = models
        elif "configMap" in volume or "secret" in volume:
            source, read_only = podman.volume(scratch / mount["name"], 0o755), True
        else:
            raise AssertionError(f"volume {mount['name']}: no stand-in for {sorted(volume)}")
        mounts.append(podman.Mount(source, mount["mountPath"], read_only))
    return mounts
