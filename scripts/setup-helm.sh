#!/usr/bin/env bash
# Installs the tools test/unit/helm-chart.test.ts needs into the git-ignored .tools/:
#   .tools/bin/helm          Helm 4, built from source with `go install` (the Go module
#                            proxy is the only place it comes from; no release tarball)
#   .tools/venv/             a Python venv with kubernetes-validate from PyPI, which ships
#                            the Kubernetes JSON schemas, so manifests are checked offline
# Idempotent: a tool already at the wanted version is left alone.
set -euo pipefail
HELM_VERSION=v4.3.2
KUBERNETES_VALIDATE_VERSION=1.35.0

root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/.tools
mkdir -p "$tools/bin"

# (outputs are captured before comparing: with pipefail, `grep -q` closing a pipe early fails it)
helm_ok() { [ -x "$tools/bin/helm" ] && [ "$("$tools/bin/helm" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]; }
if helm_ok; then
  echo "setup-helm: helm $HELM_VERSION present"
else
  command -v go >/dev/null || { echo "setup-helm: Go is needed to build helm (helm 4.3 needs Go >= 1.26)" >&2; exit 1; }
  echo "setup-helm: building helm $HELM_VERSION with go install (a few minutes)"
  # The version is stamped as helm's release script does, so `helm version` names it.
  GOBIN=$tools/bin CGO_ENABLED=0 go install \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  helm_ok || { echo "setup-helm: $tools/bin/helm does not report $HELM_VERSION" >&2; exit 1; }
fi

venv=$tools/venv
kv_ok() { [ -x "$venv/bin/kubernetes-validate" ] && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null)" = "$KUBERNETES_VALIDATE_VERSION" ]; }
if kv_ok; then
  echo "setup-helm: kubernetes-validate $KUBERNETES_VALIDATE_VERSION present"
else
  echo "setup-helm: installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $venv"
  python3 -m venv "$venv" || { echo "setup-helm: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  kv_ok || { echo "setup-helm: kubernetes-validate did not install" >&2; exit 1; }
fi
echo "setup-helm: $("$tools/bin/helm" version --short), kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
