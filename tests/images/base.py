"""The stand-in base image: Debian bookworm with python3.11, where the UBI base is out of reach.

The Dockerfiles take ``BASE_IMAGE`` (default ``registry.access.redhat.com/ubi9/python-311``).
Where that registry cannot be reached, debootstrap builds a bookworm root filesystem with
``/usr/bin/python3.11`` (the interpreter the Dockerfiles' builder stage runs), venv and pip,
this machine's CA bundle and a pip.conf naming it (and this machine's package index, if it
sets one), so pip inside the build reaches the same registry as pip here. The root
filesystem is cached as a tarball under ``.cache/images/`` (keyed by everything that goes
into it) and imported with ``podman import``, carrying UBI's descriptive label keys with
stand-in values, so a test can tell the runtime stage's own labels from inherited ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = "bookworm"
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = ("python3.11", "python3-venv", "python3-pip", "ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
#: the UBI base's descriptive label keys, with values that say what this base is
BASE_LABELS = {
    "name": "metrics-ai/stand-in-python-311",
    "summary": "Stand-in base: Debian bookworm with python3.11",
    "description": "Debian bookworm root filesystem with python3.11, venv and pip (stand-in for ubi9/python-311)",
    "io.k8s.description": "Debian bookworm root filesystem with python3.11 (stand-in for ubi9/python-311)",
    "io.k8s.display-name": "Python 3.11 (stand-in)",
    "io.openshift.tags": "builder,python,python311",
    "usage": "podman build --build-arg BASE_IMAGE=<this image> -f Dockerfile.serve .",
}
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: pip settings copied from this machine when they name a network index (file:// ones stay here)
PIP_KEYS = ("index-url", "extra-index-url", "trusted-host")


def host_pip_settings() -> dict[str, str]:
    """This machine's pip index settings (``pip config list`` and PIP_* variables), network URLs only."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    found: dict[str, str] = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if name in PIP_KEYS:
            found[name] = value.strip().strip("'\"")
    for name in PIP_KEYS:
        env = os.environ.get("PIP_" + name.upper().replace("-", "_"))
        if env:
            found[name] = env
    kept = {}
    for name, value in found.items():
        words = [w for w in value.split() if name == "trusted-host" or w.startswith(("http://", "https://"))]
        if words:
            kept[name] = " ".join(words)
    return kept


def pip_conf(settings: dict[str, str]) -> str:
    """The image's /etc/pip.conf: the copied CA bundle, then this machine's index settings."""
    lines = ["[global]", "cert = /etc/ssl/certs/ca-certificates.crt"]
    lines += [f"{key} = {value}" for key, value in sorted(settings.items())]
    return "\n".join(lines) + "\n"


def cache_key(conf: str) -> str:
    """A short hash of everything the root filesystem is made of."""
    digest = hashlib.sha256(json.dumps([SUITE, MIRROR, PACKAGES, BASE_LABELS, PATH, conf]).encode())
    if HOST_CA_BUNDLE.exists():
        digest.update(HOST_CA_BUNDLE.read_bytes())
    return digest.hexdigest()[:12]


def build_rootfs_tarball(tarball: Path, conf: str, log: Path) -> None:
    """debootstrap the root filesystem, add the CA bundle and pip.conf, and tar it to ``tarball``."""
    with tempfile.TemporaryDirectory(dir=tarball.parent) as tmp:
        root = Path(tmp) / "rootfs"
        with log.open("w") as out:
            subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(root), MIRROR],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=1800,
            )
        if HOST_CA_BUNDLE.exists():
            shutil.copyfile(HOST_CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")
        (root / "etc/pip.conf").write_text(conf)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(root / cache, ignore_errors=True)
            (root / cache).mkdir(parents=True)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], check=True)
        partial.rename(tarball)


def ensure_base_image(cache: Path) -> str:
    """The stand-in base as a podman image name: imported from the cached tarball, built if missing."""
    cache.mkdir(parents=True, exist_ok=True)
    conf = pip_conf(host_pip_settings())
    key = cache_key(conf)
    name = f"localhost/metrics-ai-stand-in-base:{SUITE}-{key}"
    if subprocess.run(["podman", "image", "exists", name], check=False).returncode == 0:
        return name
    tarball = cache / f"rootfs-{SUITE}-{key}.tar"
    if not tarball.exists():
        build_rootfs_tarball(tarball, conf, cache / "debootstrap.log")
    changes = [f"ENV PATH={PATH}"] + [f"LABEL {k}={json.dumps(v)}" for k, v in BASE_LABELS.items()]
    argv = ["podman", "import", *(a for c in changes for a in ("--change", c)), str(tarball), name]
    subprocess.run(argv, check=True, capture_output=True, text=True)
    return name
