#!/usr/bin/env bash
# Suite: the pipeline on a real single-node Kubernetes (docs/testbed-node.md).
#  1. scripts/testbed/node.sh start (builds kubelet & co. on the first run; reuses a running node
#     after resetting it: pipeline, operator and their namespaces deleted, Valkey flushed, topic
#     recreated) — tools/cluster/prepare.sh, shared with scripts/main-job --cluster
#  2. scripts/images pushes the five program images to the bench registry under one tag, and
#     locust/push-catalog.sh the catalogue; the node's Kafka gets the topic (external Kafka)
#  3. pytest tests/cluster (install with kubectl apply -k, CR Ready, pods as 65532 read-only,
#     Locust through the Ingress with grpcServer2 2->1->2 mid-load, exact counts, no 503, HPA out
#     and in)
#  4. stops the node again if this suite started it (the host is restored; node.sh stop fails
#     when anything still differs)
# Output: out/test/cluster/ (timeline.txt, hpa-timeline.txt, the report-shaped hpa-timeline.json and
# writer-replicas.json, replicas.csv,
# counts.txt, locust*, pipeline.json, pod logs, node logs in node-logs/). Needs OCI_REGISTRY (the
# bench registry; scripts/test starts it).
# Env: CLUSTER_LOAD_SECONDS (150), CLUSTER_USERS (20), CLUSTER_KEEP_NODE=1 (leave the node running),
# CLUSTER_IMAGES_ARGS (extra scripts/images options, e.g. --no-build to push binaries already built).
# Cost on this machine (node binaries cached, node not running): see the phase lines it prints; the
# README has the measured figures.
set -uo pipefail
# shellcheck source=scripts/lib/suite.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/suite.sh"
suite_begin cluster
[ -n "${OCI_REGISTRY:-}" ] || { echo "80-cluster: no OCI_REGISTRY (start the bench registry: scripts/testbed/registry.sh start)" >&2; exit 1; }
# shellcheck source=SCRIPTDIR/../../tools/cluster/prepare.sh
. tools/cluster/prepare.sh

rc=0
cluster_node_up || { echo "80-cluster: the node did not start" >&2; exit 1; }
TAG="cluster-$(git describe --always --dirty 2>/dev/null || echo dev)"
cluster_push "$TAG" || { echo "80-cluster: images, catalogue or topic failed" >&2; rc=1; }
if [ "$rc" = 0 ]; then
  phase "pytest tests/cluster"
  CLUSTER_OUT="$OUT" CLUSTER_TAG="$TAG" OCI_REGISTRY="$OCI_REGISTRY" \
    python3 -m pytest tests/cluster -x -v -rA -s -p no:cacheprovider --junitxml="$out/80-cluster.xml" || rc=1
fi
if [ -s "$OUT/timeline.txt" ]; then
  echo "==== replicas and HPA over time (kubectl get hpa snapshots: $OUT/hpa-timeline.txt)"
  cat "$OUT/timeline.txt"
fi
cluster_node_down || rc=1
phase "done (rc $rc)"
exit "$rc"
