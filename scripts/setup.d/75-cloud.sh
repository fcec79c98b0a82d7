#!/usr/bin/env bash
# Set-up for the 75-cloud suite (offline checks of the cloud recipes; idempotent):
#   - shellcheck (Debian) for every recipe script;
#   - cloud-init (Debian; disabled at once so it never runs at boot here) for `cloud-init schema`;
#   - Helm v4, built from its Go module (helm.sh/helm/v4) and cached under
#     $BF_CACHE/helm/<version>/helm, so a fresh clone on this machine reuses it (cold: ~4 min of
#     Go build on 2 cores; warm: nothing);
#   - eksctl's ClusterConfig JSON schema, taken from the eksctl Go module's source zip
#     (github.com/weaveworks/eksctl, pkg/apis/eksctl.io/v1alpha5/assets/schema.json), cached the
#     same way; python3-jsonschema validates against it.
# Prints the paths as KEY=VALUE lines for the suite (tests/cloud/tools.py reads the same layout).
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v4.3.2}"
EKSCTL_VERSION="${EKSCTL_VERSION:-v0.215.0}"
BF_CACHE="${BF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blackfriday-operator}"
export DEBIAN_FRONTEND=noninteractive

need=()
command -v shellcheck >/dev/null || need+=(shellcheck)
python3 -c 'import jsonschema' 2>/dev/null || need+=(python3-jsonschema)
python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
command -v openssl >/dev/null || need+=(openssl)
if ! command -v cloud-init >/dev/null; then
  mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
  need+=(cloud-init)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "75-cloud: apt-get install ${need[*]}" >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

helm_dir="$BF_CACHE/helm/$HELM_VERSION"
if [ ! -x "$helm_dir/helm" ]; then
  command -v go >/dev/null || { echo "75-cloud: go is required to build helm" >&2; exit 1; }
  echo "75-cloud: building helm $HELM_VERSION from its Go module (cached in $helm_dir)" >&2
  mkdir -p "$helm_dir.tmp"
  t0=$(date +%s)
  GOBIN="$helm_dir.tmp" GOFLAGS=-mod=mod nice go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  rm -rf "$helm_dir" && mv "$helm_dir.tmp" "$helm_dir"
  echo "75-cloud: helm built in $(( $(date +%s) - t0 ))s" >&2
fi

schema_dir="$BF_CACHE/eksctl-schema/$EKSCTL_VERSION"
if [ ! -s "$schema_dir/schema.json" ]; then
  echo "75-cloud: fetching eksctl $EKSCTL_VERSION source from the Go module proxy for its ClusterConfig schema" >&2
  zip="$(GOFLAGS=-mod=mod go mod download -json "github.com/weaveworks/eksctl@$EKSCTL_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Zip"])')"
  mkdir -p "$schema_dir"
  python3 - "$zip" "$schema_dir/schema.json" "$EKSCTL_VERSION" <<'PY'
import sys, zipfile
zip_path, out, version = sys.argv[1:]
name = f"github.com/weaveworks/eksctl@{version}/pkg/apis/eksctl.io/v1alpha5/assets/schema.json"
with zipfile.ZipFile(zip_path) as z, open(out, "wb") as f:
    f.write(z.read(name))
PY
fi
echo "HELM=$helm_dir/helm"
echo "EKSCTL_SCHEMA=$schema_dir/schema.json"
