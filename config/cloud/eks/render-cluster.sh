#!/usr/bin/env bash
# Render eks/cluster.yaml: names, sizes, the containerd-hosts.sh generator and Zot's CA (base64,
# so they fit one bootstrap command line each).
#   render-cluster.sh --ca ca.crt --zot HOST:PORT --out FILE
# Env: NAME, REGION, K8S_VERSION, GENERAL_INSTANCE, GENERAL_NODES, KUBEVIRT_INSTANCE, KUBEVIRT_NODES.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ca="" zot="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ca) ca="$2"; shift 2 ;;
    --zot) zot="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "render-cluster.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -s "$ca" ] || { echo "render-cluster.sh: --ca FILE (Zot's CA) is required" >&2; exit 2; }
[ -n "$zot" ] || { echo "render-cluster.sh: --zot HOST:PORT is required" >&2; exit 2; }
[ -n "$out" ] || { echo "render-cluster.sh: --zot HOST:PORT and --out FILE are required" >&2; exit 2; }
for v in GENERAL_NODES KUBEVIRT_NODES; do
  [[ "${!v:-}" =~ ^[0-9]+$ ]] || { echo "render-cluster.sh: $v must be a number, got '${!v:-}'" >&2; exit 2; }
done
sed -e "s|@NAME@|${NAME:?}|g" -e "s|@REGION@|${REGION:?}|g" -e "s|@K8S_VERSION@|${K8S_VERSION:?}|g" \
    -e "s|@GENERAL_INSTANCE@|${GENERAL_INSTANCE:?}|g" -e "s|@GENERAL_NODES@|$GENERAL_NODES|g" \
    -e "s|@KUBEVIRT_INSTANCE@|${KUBEVIRT_INSTANCE:?}|g" -e "s|@KUBEVIRT_NODES@|$KUBEVIRT_NODES|g" \
    -e "s|@ZOT@|$zot|g" \
    -e "s|@CONTAINERD_HOSTS_B64@|$(base64 -w0 < "$here/../containerd-hosts.sh")|g" \
    -e "s|@ZOT_CA_B64@|$(base64 -w0 < "$ca")|g" \
    "$here/cluster.yaml" > "$out"
if grep -q '@[A-Z_0-9]*@' "$out"; then echo "render-cluster.sh: unfilled placeholder in $out" >&2; exit 1; fi
echo "render-cluster.sh: wrote $out"
