#!/usr/bin/env sh
# Install the container tools the image tests use, from Debian's packages, only when one
# is missing (idempotent; `make test` runs it through `make container-tools`):
#   buildah (builds deploy/container/Containerfile), podman and runc (run the image),
#   debootstrap (makes the local base image: no registry can be reached from here).
# Then writes .tools/containers/containers.conf: podman runs here only with runc, the
# cgroupfs manager and no default ulimits (crun cannot set RLIMIT_NOFILE in this sandbox).
# Where the packages cannot be installed (no apt-get, no root), this only warns: the
# image tests then skip, with that reason, except in CI (DQGATE_TEST_REQUIRE_TOOLS=1 as
# .ci/run sets, or CI=true), where they fail.
set -eu

TOOLS="${TOOLS_DIR:-.tools}"
mkdir -p "$TOOLS/containers"
cat > "$TOOLS/containers/containers.conf" <<'CONF'
# Written by deploy/container/install-tools.sh (see there why).
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF

missing=""
for tool in buildah podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: missing:$missing and apt-get is not available; install buildah, podman," \
         "runc and debootstrap (the image tests skip)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "warning: installing$missing needs root; run 'sudo apt-get install" \
             "--no-install-recommends buildah podman runc debootstrap' (the image tests skip)" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Recommends would bring crun, slirp and a full netavark stack; runc is what works here.
$SUDO apt-get install -y -qq --no-install-recommends \
    buildah podman runc debootstrap >/dev/null
for tool in buildah podman runc debootstrap; do command -v "$tool" >/dev/null; done
