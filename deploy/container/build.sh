#!/usr/bin/env sh
# Build deploy/container/Containerfile with buildah: `make image` and the image tests run
# this, so both build the same way.
#   IMAGE_BASE  base image (default localhost/dqgate-base:bookworm, from base-image.sh;
#               docker.io/library/python:3.11-slim-bookworm where a registry is reachable)
#   IMAGE_TAG   tag (default localhost/dqgate:VERSION, VERSION from pyproject.toml)
#   BUILD_CA_BUNDLE  CA bundle that pip and cargo trust during the RUN steps (default:
#               this machine's /etc/ssl/certs/ca-certificates.crt, so a build behind an
#               HTTPS proxy that re-signs traffic works); bind-mounted, never in a layer
#   IMAGE_PRUNE=1  afterwards remove dangling images (earlier builds' layers), so that
#               repeated builds (the tests') do not fill the disk; off by default
# Layers are cached (--layers); pip's and cargo's downloads in build cache mounts. The
# builder stage is tagged localhost/dqgate-builder:cache so that its layers (Rust, the
# wheels) stay cached when dangling images are pruned.
# --format docker keeps the HEALTHCHECK (the OCI image format has no such field).
set -eu

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="$( [ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python3)"
VERSION="$("$PY" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$ROOT/pyproject.toml")"
REVISION="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)"
BASE="${IMAGE_BASE:-localhost/dqgate-base:bookworm}"
TAG="${IMAGE_TAG:-localhost/dqgate:$VERSION}"

CA="${BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
set --
if [ -n "$CA" ] && [ -f "$CA" ]; then
    set -- --volume "$CA:/etc/ssl/certs/ca-certificates.crt:ro"
fi

set -- "$@" --isolation chroot --layers --force-rm --format docker \
    --ignorefile "$ROOT/deploy/container/Containerfile.dockerignore" \
    -f "$ROOT/deploy/container/Containerfile" \
    --build-arg "BASE_IMAGE=$BASE" --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION"
buildah bud "$@" --target builder -t localhost/dqgate-builder:cache "$ROOT"
buildah bud "$@" -t "$TAG" "$ROOT"
echo "built $TAG"
if [ "${IMAGE_PRUNE:-0}" = 1 ]; then
    buildah rmi --prune >/dev/null || true
fi
