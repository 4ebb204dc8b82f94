#!/usr/bin/env bash
# Shared by scripts/install-*-deps.sh: install Debian packages unless their binaries are on PATH.
#
#   apt_install NAME "bin1 bin2" pkg1 pkg2 ...
#
# Returns 0 at once when every binary is on PATH. Otherwise runs apt-get (as root, or
# through sudo), with the packages' daemons kept from starting (policy-rc.d), and fails
# when a binary is still missing. NAME prefixes every message.
set -euo pipefail

apt_install() {
  local name=$1 binaries=$2
  shift 2
  local have_all=1 bin
  for bin in $binaries; do command -v "$bin" >/dev/null 2>&1 || have_all=0; done
  if [ "$have_all" = 1 ]; then
    echo "$name: $binaries already installed"
    return 0
  fi

  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      echo "$name: need root (or sudo) to apt-get install $*" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$name: no apt-get; install $* yourself (binaries: $binaries)" >&2
    return 1
  fi

  # Keep the packages' postinst from starting daemons (tests start their own).
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created=1
  fi
  local rc=0
  $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" || rc=$?
  if [ "$created" = 1 ]; then $sudo rm -f "$policy"; fi
  [ "$rc" = 0 ] || return "$rc"

  for bin in $binaries; do
    command -v "$bin" >/dev/null 2>&1 || { echo "$name: $bin still missing after apt-get install" >&2; return 1; }
  done
}
