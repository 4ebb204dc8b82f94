#!/usr/bin/env bash
# Install what the test suite needs outside Python: Prometheus, promtool and Alertmanager, and
# curl (tests/docs runs docs/api.md's curl examples).
#
# Idempotent: does nothing when all of them are already on PATH. Runs unattended as root
# on a fresh Debian/Ubuntu machine (as another user it uses sudo when available).
# The packages' services are never started: tests run their own Prometheus and Alertmanager.
set -euo pipefail

BINARIES="prometheus promtool prometheus-alertmanager curl"
have_all() {
  for bin in $BINARIES; do command -v "$bin" >/dev/null 2>&1 || return 1; done
}

if have_all; then
  echo "install-test-deps: $BINARIES already installed ($(command -v prometheus))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-test-deps: need root (or sudo) to apt-get install prometheus prometheus-alertmanager" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get; install prometheus and promtool (>= 2.24) and alertmanager (>= 0.25, as prometheus-alertmanager on PATH) yourself" >&2
  exit 1
fi

# Keep the packages' postinst from starting daemons (tests start their own).
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() { if [ "$CREATED_POLICY" = 1 ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus prometheus-alertmanager curl

have_all || {
  echo "install-test-deps: one of $BINARIES still missing after apt-get install" >&2
  exit 1
}
echo "install-test-deps: installed $(prometheus --version 2>&1 | head -n1)"
echo "install-test-deps: installed $(prometheus-alertmanager --version 2>&1 | head -n1)"
