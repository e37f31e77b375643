#!/usr/bin/env sh
# Build the chart tests' tools into .tools/bin (git-ignored), only when missing or stale
# (idempotent; `make test` runs it through `make helm-tools`):
#   helm      helm.sh/helm/v3 at HELM_VERSION, from the Go module proxy (`go install`)
#   kubecheck deploy/helm/tests/kubecheck: decodes rendered manifests strictly with the
#             Kubernetes, Prometheus Operator and KEDA Go types (its go.sum pins them)
# Go's own module and build caches are used, so a second build takes seconds. Where Go is
# missing this only warns: the chart tests then skip, with that reason, except in CI
# (DQGATE_TEST_REQUIRE_TOOLS=1 as .ci/run sets, or CI=true), where they fail.
set -eu

HELM_VERSION=v3.22.0
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="$(mkdir -p "${TOOLS_DIR:-$ROOT/.tools}/bin" && cd "${TOOLS_DIR:-$ROOT/.tools}" && pwd)"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
if [ ! -x "$GO" ]; then
    echo "warning: go is not on PATH: helm and kubecheck are not built (install Go 1.24+;" \
         "the chart tests skip)" >&2
    exit 0
fi

if [ "$("$TOOLS/bin/helm" version --template '{{.Version}}' 2>/dev/null || true)" != "$HELM_VERSION" ]; then
    echo "building helm $HELM_VERSION into $TOOLS/bin (go install; a few minutes the first time)"
    # The version stamps of helm's own Makefile: its version, and the Kubernetes version
    # that `helm template` and `helm lint` assume (that of its k8s.io/client-go).
    gomod="$("$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
    kube_minor="$(awk '$1 == "k8s.io/client-go" {split($2, v, "."); print v[2]}' "$gomod")"
    GOBIN="$TOOLS/bin" CGO_ENABLED=0 "$GO" install -trimpath -ldflags "\
        -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
        -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
        -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
        -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kube_minor \
        -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
        -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube_minor" \
        "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

SRC="$ROOT/deploy/helm/tests/kubecheck"
STAMP="$TOOLS/bin/kubecheck.sum"
SUM="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -d' ' -f1)"
if [ ! -x "$TOOLS/bin/kubecheck" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$SUM" ]; then
    echo "building kubecheck into $TOOLS/bin (go build -mod=readonly)"
    (cd "$SRC" && CGO_ENABLED=0 "$GO" build -mod=readonly -trimpath -o "$TOOLS/bin/kubecheck" .)
    echo "$SUM" > "$STAMP"
fi
