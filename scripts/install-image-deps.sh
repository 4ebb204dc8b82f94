#!/usr/bin/env bash
# Install what `make images` needs outside Python: podman (builds and mounts the images) and
# debootstrap (builds the Debian bookworm root filesystem that stands in for the UBI base
# where registry.access.redhat.com is out of reach).
#
# Idempotent: does nothing when both are already on PATH. Runs unattended as root on a fresh
# Debian/Ubuntu machine (as another user it uses sudo when available).
set -euo pipefail
source "$(dirname "$0")/lib/apt-install.sh"

# fuse-overlayfs and uidmap: podman's storage and user mapping; ca-certificates: debootstrap over https
apt_install install-image-deps "podman debootstrap" podman debootstrap fuse-overlayfs uidmap ca-certificates
echo "install-image-deps: $(podman --version), debootstrap $(dpkg-query -W -f='${Version}' debootstrap)"
