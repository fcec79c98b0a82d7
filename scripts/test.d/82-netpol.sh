#!/usr/bin/env bash
# Suite: the operator's NetworkPolicies enforced on the bench node (docs/security.md, "Enforced on
# the bench node"). The node runs kube-router's NetworkPolicy firewall (scripts/testbed/node.sh;
# built from the Go module proxy by tools/node/build.sh) over its bridge CNI.
#  1. scripts/testbed/node.sh start, or a reset of a running node (tools/cluster/prepare.sh, as 80-cluster)
#  2. the operator binary (cargo build -p blackfriday-operator: 40-operator's build, warm)
#  3. pytest tests/netpol: `blackfriday-operator render` of the cluster suite's pipeline (external
#     Kafka/Valkey on the node IP) applied to the node (Namespaces, Services, NetworkPolicies); one
#     probe pod per program with its labels and ports (tools/node/probe), plus a stray pod in ingest
#     and one in a foreign namespace; allowed edges connect, forbidden ones do not, and the same
#     forbidden edges connect with `networkPolicies.enabled: false`
#  4. stops the node again if this suite started it (host restore checked: kube-router's chains and
#     ipsets too)
# Output: out/test/netpol/ (probes.txt: every probe and its answer; the renders; node logs).
# Cost: the phase lines; warm (node binaries and operator built), node started and stopped here:
# 46 s (start 23 s, pytest 7 s, stop 14 s; docs/testbed-node.md). Cold: kube-router's Go build
# (≈ 16 min here at load 20) and the probe image (seconds), by tools/node/build.sh via node.sh.
set -uo pipefail
# shellcheck source=scripts/lib/suite.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/suite.sh"
suite_begin netpol
# shellcheck source=SCRIPTDIR/../../tools/cluster/prepare.sh
. tools/cluster/prepare.sh

phase "operator binary"
nice cargo build -q -p blackfriday-operator || { echo "82-netpol: the operator does not build" >&2; exit 1; }
OPERATOR="${CARGO_TARGET_DIR:-$ROOT/target}/debug/blackfriday-operator"

rc=0
cluster_node_up || { echo "82-netpol: the node did not start" >&2; exit 1; }
if [ "${NODE_NETPOL:-0}" != 1 ]; then
  echo "82-netpol: the node runs without kube-router (NODE_NETPOL=${NODE_NETPOL:-unset}): nothing enforces policies" >&2
  rc=1
else
  phase "pytest tests/netpol"
  OPERATOR="$OPERATOR" NETPOL_OUT="$OUT" CLUSTER_TAG=netpol OCI_REGISTRY="${OCI_REGISTRY:-registry.invalid:5000}" \
    python3 -m pytest tests/netpol -x -v -rA -s -p no:cacheprovider --junitxml="$out/82-netpol.xml" || rc=1
fi
[ -s "$OUT/probes.txt" ] && { echo "==== probes (from → to: answer)"; cat "$OUT/probes.txt"; }
"$NODE_KUBECTL" --kubeconfig "$NODE_KUBECONFIG" delete namespace ingest netpol-foreign --ignore-not-found \
  --wait=false >/dev/null 2>&1 || true
cluster_node_down || rc=1
phase "done (rc $rc)"
exit "$rc"
