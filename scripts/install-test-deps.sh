#!/usr/bin/env bash
# Install what the test suite needs outside Python: Prometheus, promtool and Alertmanager, and
# curl (tests/docs runs docs/api.md's curl examples).
#
# Idempotent: does nothing when all of them are already on PATH. Runs unattended as root
# on a fresh Debian/Ubuntu machine (as another user it uses sudo when available).
# The packages' services are never started: tests run their own Prometheus and Alertmanager.
# Elsewhere: install prometheus and promtool (>= 2.24) and alertmanager (>= 0.25, as
# prometheus-alertmanager on PATH) yourself.
set -euo pipefail
source "$(dirname "$0")/lib/apt-install.sh"

apt_install install-test-deps "prometheus promtool prometheus-alertmanager curl" \
  prometheus prometheus-alertmanager curl
echo "install-test-deps: $(prometheus --version 2>&1 | head -n1)"
echo "install-test-deps: $(prometheus-alertmanager --version 2>&1 | head -n1)"
