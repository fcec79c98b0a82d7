#!/usr/bin/env bash
# Set-up for the Kubernetes bench (scripts/testbed/k8s.sh): system tools, Python modules, and the
# Go modules of tools/k8s (downloaded here so the build step needs no network). Idempotent; fast
# when everything is present. Does not build the binaries (scripts/testbed/k8s.sh start does,
# through tools/k8s/build.sh, which skips when they are current).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))

need=()
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v ss >/dev/null || need+=(iproute2)
command -v flock >/dev/null || need+=(util-linux)
command -v git >/dev/null || need+=(git)
command -v python3 >/dev/null || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  echo "10-k8s: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Python modules for tools/k8s/*.py and tests/testbed/test_k8s_smoke.py
if ! python3 -c 'import yaml, requests' 2>/dev/null; then
  echo "10-k8s: pip install pyyaml requests" >&2
  python3 -m pip install -q pyyaml requests
fi

# Go toolchain (the polyglot machine ships Go >= 1.26; the Kubernetes 1.36 module needs go 1.26)
if ! command -v go >/dev/null; then
  echo "10-k8s: ERROR: no go toolchain; the Kubernetes bench builds kube-apiserver from source" >&2
  exit 1
fi
# fetch the module graph now (no-op when cached)
(cd "$ROOT/tools/k8s" && go mod download)
# Strimzi's CRDs from Maven Central (Strimzi's own generator; cached by version, no-op when current)
command -v mvn >/dev/null || {
  echo "10-k8s: apt-get install maven" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends maven >/dev/null
}
"$ROOT/tools/k8s/upstream/strimzi-crds.sh" >/dev/null
echo "10-k8s: ok" >&2
