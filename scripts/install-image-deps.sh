#!/usr/bin/env bash
# Install what `make images` needs outside Python: podman (builds and mounts the images) and
# debootstrap (builds the Debian bookworm root filesystem that stands in for the UBI base
# where registry.access.redhat.com is out of reach).
#
# Idempotent: does nothing when both are already on PATH. Runs unattended as root on a fresh
# Debian/Ubuntu machine (as another user it uses sudo when available).
set -euo pipefail

BINARIES="podman debootstrap"
have_all() {
  for bin in $BINARIES; do command -v "$bin" >/dev/null 2>&1 || return 1; done
}

if have_all; then
  echo "install-image-deps: $BINARIES already installed ($(podman --version))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-image-deps: need root (or sudo) to apt-get install podman debootstrap" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-image-deps: no apt-get; install podman (>= 4) and debootstrap yourself" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  podman debootstrap fuse-overlayfs uidmap ca-certificates

have_all || {
  echo "install-image-deps: one of $BINARIES still missing after apt-get install" >&2
  exit 1
}
echo "install-image-deps: installed $(podman --version), debootstrap $(dpkg-query -W -f='${Version}' debootstrap)"
