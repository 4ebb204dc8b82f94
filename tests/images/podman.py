"""Build images with podman and run their root filesystems as OpenShift's restricted-v2 would.

Containers cannot start on this kind of machine (the sandbox refuses setrlimit), so an image
is run without a container runtime: ``podman create`` + ``podman mount`` expose a container's
root filesystem (the image plus a layer where, as a runtime does, the volumes' mount points
are made), a read-only bind mount of it stands for ``readOnlyRootFilesystem: true``, the
pod's volumes are bound on top (the only writable places), and the command runs chrooted
there as an arbitrary UID in group 0 (``chroot --userspec=UID:0``), with the image's ENV and
WORKDIR. ``podman image mount`` serves the read-only looks at an image (sizes, modes).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: an arbitrary UID from an OpenShift namespace's range; group 0 as restricted-v2 assigns
UID, GID = 1000770000, 0
BUILD_TIMEOUT_S = 3600


@dataclass(frozen=True)
class ImageConfig:
    """What ``podman image inspect`` says about an image: how to run it, its labels and size."""

    name: str
    env: dict[str, str]
    workdir: str
    entrypoint: list[str]
    cmd: list[str]
    labels: dict[str, str]
    size: int


@dataclass(frozen=True)
class Mount:
    """A pod volume: a host folder bound at ``target`` inside the image's root."""

    source: Path
    target: str
    read_only: bool = False


def build(dockerfile: Path, tag: str, base_image: str, log: Path) -> None:
    """``podman build --isolation=chroot`` with the stand-in base; the log's tail on failure."""
    argv = ["podman", "build", "--isolation=chroot", "--layers", "-f", str(dockerfile)]
    argv += ["--build-arg", f"BASE_IMAGE={base_image}", "-t", tag, str(dockerfile.parent)]
    with log.open("w") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False, timeout=BUILD_TIMEOUT_S)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise AssertionError(f"podman build -f {dockerfile.name} failed ({done.returncode}), log {log}:\n{tail}")


def inspect(name: str) -> ImageConfig:
    """The image's run configuration (ENV, WORKDIR, ENTRYPOINT, CMD), labels and size in bytes."""
    out = subprocess.run(["podman", "image", "inspect", name], capture_output=True, text=True, check=True).stdout
    info: dict[str, Any] = json.loads(out)[0]
    config: dict[str, Any] = info.get("Config") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [])
    return ImageConfig(
        name=name,
        env=env,
        workdir=config.get("WorkingDir") or "/",
        entrypoint=list(config.get("Entrypoint") or []),
        cmd=list(config.get("Cmd") or []),
        labels=dict(info.get("Labels") or {}),
        size=int(info["Size"]),
    )


@contextmanager
def mounted(name: str) -> Iterator[Path]:
    """The image's root filesystem (``podman image mount``), unmounted afterwards."""
    out = subprocess.run(["podman", "image", "mount", name], capture_output=True, text=True, check=True).stdout
    try:
        yield Path(out.strip())
    finally:
        subprocess.run(["podman", "image", "unmount", name], capture_output=True, check=False)


@contextmanager
def container_root(image: str) -> Iterator[Path]:
    """The root filesystem of a container created (never started) from ``image``, removed afterwards."""
    name = f"metrics-ai-images-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    subprocess.run(["podman", "create", "--name", name, "--network", "none", image], capture_output=True, check=True)
    try:
        out = subprocess.run(["podman", "mount", name], capture_output=True, text=True, check=True).stdout
        yield Path(out.strip())
    finally:
        subprocess.run(["podman", "unmount", name], capture_output=True, check=False)
        subprocess.run(["podman", "rm", "-f", name], capture_output=True, check=False)


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextmanager
def _bound(source: Path, target: Path, read_only: bool, recursive: bool = False) -> Iterator[None]:
    """``source`` bound at ``target`` (read-only: remounted ro), unmounted afterwards."""
    _mount("--rbind" if recursive else "--bind", str(source), str(target))
    try:
        if read_only:
            _mount("-o", "remount,bind,ro", str(target))
        yield
    finally:
        subprocess.run(["umount", *(["-R"] if recursive else []), str(target)], check=False)


@contextmanager
def read_only_root(container: Path, mounts: Sequence[Mount], workspace: Path) -> Iterator[Path]:
    """A container's root bound read-only under ``workspace``, with /proc, /dev and ``mounts`` on top.

    Mount points the image lacks are made in the container's layer first, as a runtime does.
    """
    root = workspace / "rootfs"
    root.mkdir()
    for mount in mounts:
        (container / mount.target.lstrip("/")).mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        stack.enter_context(_bound(container, root, read_only=True))
        stack.enter_context(_bound(Path("/proc"), root / "proc", read_only=False, recursive=True))
        stack.enter_context(_bound(Path("/dev"), root / "dev", read_only=False, recursive=True))
        for mount in mounts:
            target = root / mount.target.lstrip("/")
            stack.enter_context(_bound(mount.source, target, read_only=mount.read_only))
        yield root


def volume(path: Path, mode: int) -> Path:
    """A host folder for a volume, owned by root:0 with ``mode`` (group 0 writes where the pod would)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 0, GID)
    path.chmod(mode)
    return path


def run_as(
    root: Path, argv: Sequence[str], env: Mapping[str, str], workdir: str, **popen: Any
) -> subprocess.Popen[str]:
    """Start ``argv`` chrooted in ``root`` as UID:0 in ``workdir``, with exactly ``env``.

    ``argv[0]`` is looked up on ``env``'s PATH inside the root, as the container runtime does.
    """

    def enter() -> None:
        os.chroot(root)
        os.chdir(workdir)
        os.setgroups([GID])
        os.setgid(GID)
        os.setuid(UID)

    return subprocess.Popen(list(argv), env=dict(env), preexec_fn=enter, text=True, **popen)  # noqa: PLW1509


def run_to_end(
    root: Path, argv: Sequence[str], env: Mapping[str, str], workdir: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``run_as`` and wait: the exit status and the output (stdout and stderr together)."""
    proc = run_as(root, argv, env, workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, "")
