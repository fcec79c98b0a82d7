#!/usr/bin/env bash
# Pushes locust/catalog.json to an OCI registry as the catalogue artifact (docs/main-job.md).
#
#   locust/push-catalog.sh [REFERENCE]
#     REFERENCE  default: $OCI_REGISTRY/blackfriday/catalog:v1 (OCI_REGISTRY from .testbed/env)
#
# Artifact type  application/vnd.blackfriday.catalog.v1+json
# Layer          catalog.json as application/vnd.blackfriday.catalog.layer.v1+json
# The catalogue is validated against locust/catalog.schema.json before the push and pulled back
# (over the OCI distribution API, as Locust does) after it.
# Env: ORAS (oras CLI; default from .testbed/env or PATH), ORAS_PLAIN_HTTP=1 for an http registry
# (default for 127.0.0.1/localhost), BF_REGISTRY_USER/BF_REGISTRY_PASSWORD for a registry with auth.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
if [ -f "$ROOT/.testbed/env" ]; then set -a; . "$ROOT/.testbed/env"; set +a; fi
REF="${1:-${OCI_REGISTRY:?OCI_REGISTRY not set and no reference given}/blackfriday/catalog:v1}"
ORAS="${ORAS:-$(command -v oras || true)}"
if [ -z "$ORAS" ] || [ ! -x "$ORAS" ]; then echo "push-catalog: oras CLI not found (scripts/testbed/registry.sh tools builds it)" >&2; exit 1; fi
ARTIFACT_TYPE=application/vnd.blackfriday.catalog.v1+json
LAYER_TYPE=application/vnd.blackfriday.catalog.layer.v1+json

python3 "$HERE/catalog.py" >/dev/null   # schema check of the local file

host="${REF%%/*}"
flags=()
case "${ORAS_PLAIN_HTTP:-auto}" in
  1|true) flags+=(--plain-http) ;;
  auto) case "$host" in 127.0.0.1:*|localhost:*|127.0.0.1|localhost) flags+=(--plain-http) ;; esac ;;
esac
if [ -n "${BF_REGISTRY_USER:-}" ]; then flags+=(-u "$BF_REGISTRY_USER" -p "${BF_REGISTRY_PASSWORD:-}"); fi

cd "$HERE"   # the layer's title annotation is the bare file name
"$ORAS" push "${flags[@]}" \
  --artifact-type "$ARTIFACT_TYPE" \
  --annotation "org.opencontainers.image.description=Black Friday product catalogue for Locust" \
  --annotation "org.opencontainers.image.source=locust/catalog.json" \
  "$REF" "catalog.json:$LAYER_TYPE" >&2

python3 "$HERE/catalog.py" "$REF"
