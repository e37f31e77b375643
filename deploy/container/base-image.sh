#!/usr/bin/env sh
# Make the local base image localhost/dqgate-base:bookworm: Debian bookworm (minbase) with
# python3 (3.11), venv and CA certificates, the same Python and glibc as the public
# default base of deploy/container/Containerfile (python:3.11-slim-bookworm). It exists
# because no container registry can be reached on the project's machines; elsewhere,
# build with the public default and skip this.
#
# Idempotent: does nothing when the image exists and was made by this RECIPE (label
# dqgate.base.recipe). debootstrap's downloads are cached in
# .tools/debootstrap-cache (git-ignored). Needs root, debootstrap and podman
# (`make container-tools`). DEBIAN_MIRROR overrides the mirror.
set -eu

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="$(mkdir -p "${TOOLS_DIR:-$ROOT/.tools}" && cd "${TOOLS_DIR:-$ROOT/.tools}" && pwd)"
IMAGE=localhost/dqgate-base:bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Bump RECIPE when what goes into the image changes: an existing image of another recipe
# is made again.
RECIPE=bookworm-python3-1
if [ -z "${CONTAINERS_CONF:-}" ] && [ -f "$TOOLS/containers/containers.conf" ]; then
    export CONTAINERS_CONF="$TOOLS/containers/containers.conf"
fi

for tool in debootstrap podman; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "warning: $tool is missing (make container-tools): $IMAGE not made" >&2
        exit 0
    fi
done
if [ "$(id -u)" -ne 0 ]; then
    echo "warning: debootstrap needs root: $IMAGE not made (the image tests skip)" >&2
    exit 0
fi
if [ "$(podman image inspect --format '{{index .Labels "dqgate.base.recipe"}}' "$IMAGE" 2>/dev/null || true)" = "$RECIPE" ]; then
    exit 0
fi

ROOTFS="$TOOLS/base-rootfs"
rm -rf "$ROOTFS"
mkdir -p "$TOOLS/debootstrap-cache"
echo "debootstrap bookworm into $ROOTFS (a few minutes the first time)"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    --cache-dir="$TOOLS/debootstrap-cache" bookworm "$ROOTFS" "$MIRROR" >"$TOOLS/debootstrap.log" 2>&1 \
    || { tail -20 "$TOOLS/debootstrap.log" >&2; exit 1; }
# The same apt sources as Debian's official images: main, updates and security.
rm -f "$ROOTFS/etc/apt/sources.list"
cat > "$ROOTFS/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
    "$ROOTFS"/var/log/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*
tar --numeric-owner -C "$ROOTFS" -c . | podman import --quiet \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --change "LABEL dqgate.base.recipe=$RECIPE" \
    --message "debootstrap bookworm minbase + python3 (deploy/container/base-image.sh)" \
    - "$IMAGE" >/dev/null
rm -rf "$ROOTFS"
echo "made $IMAGE"
