#!/usr/bin/env sh
# Install `prometheus` and `promtool` from Debian's `prometheus` package, only when
# either is missing (idempotent; `make test` runs it through `make prometheus-tools`).
#
# The tests start their own Prometheus server on loopback with a temporary data dir;
# they never use the Debian service. Recommends (the node exporter) are not installed.
# Where the package cannot be installed (no apt-get, no root), this only warns: the
# Prometheus tests then skip, with that reason, except in CI (CI=true, or
# DQGATE_TEST_REQUIRE_TOOLS=1 as .ci/run sets), where they fail.
set -eu

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: prometheus/promtool are missing and apt-get is not available; install" \
         "Prometheus 2.x so that both are on PATH (the Prometheus tests skip)" >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "warning: installing Debian's prometheus package needs root; run" \
             "'sudo apt-get install --no-install-recommends prometheus' (the Prometheus" \
             "tests skip)" >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null && command -v promtool >/dev/null
