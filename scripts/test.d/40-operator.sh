#!/usr/bin/env bash
# operator suite: the committed CRD is current, then every test of the operator crate — unit
# (validation, builders, conditions), render snapshots (insta), and the tests against the bench's real kube-apiserver: lifecycle, external Valkey, KubeVirt admission
# policy (KUBECONFIG / KUBECONFIG_OPERATOR from .testbed/env; they skip only when KUBECONFIG is absent).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CRD=crds/blackfriday.dev_blackfridaypipelines.yaml
nice cargo build -q -p blackfriday-operator
if ! target/debug/blackfriday-operator crd | diff -u "$CRD" -; then
  echo "40-operator: $CRD is stale: cargo run -p blackfriday-operator -- crd > $CRD" >&2
  exit 1
fi
echo "40-operator: $CRD is current"
# render of every sample must succeed offline (what a user reviews before applying)
for sample in config/samples/*.yaml; do
  target/debug/blackfriday-operator render -f "$sample" > /dev/null
done
# the writer tiers scripts/main-job takes from the operator for each --route (tools/testrun/writer_tiers.py)
for route_tiers in "both:grpc-server-1 grpc-server-2" "grpc-server-1:grpc-server-1" "grpc-server-2:grpc-server-2"; do
  route="${route_tiers%%:*}" want="${route_tiers#*:}"
  got="$(python3 tools/testrun/writer_tiers.py target/debug/blackfriday-operator config/samples/pipeline.yaml "$route")"
  [ "$got" = "$want" ] || { echo "40-operator: route $route gives the writer tiers '$got', want '$want'" >&2; exit 1; }
done
echo "40-operator: main-job's writer tiers per route come from the operator's render"
command -v cloud-init >/dev/null || { echo "40-operator: cloud-init missing (scripts/setup.d/40-operator.sh installs it)" >&2; exit 1; }
if [ -z "${KUBECONFIG:-}" ]; then
  echo "40-operator: no KUBECONFIG: the real-apiserver test will skip" >&2
fi
nice cargo test -p blackfriday-operator
