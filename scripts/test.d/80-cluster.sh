#!/usr/bin/env bash
# Suite: the pipeline on a real single-node Kubernetes (docs/bench-node.md).
#  1. scripts/bench/node.sh start (builds kubelet & co. on the first run; reuses a running node
#     after resetting it: pipeline, operator and their namespaces deleted, Valkey flushed, topic
#     recreated)
#  2. scripts/images pushes the five program images to the bench registry under one tag, and
#     locust/push-catalog.sh the catalogue; the node's Kafka gets the topic (external Kafka)
#  3. pytest tests/cluster (install with kubectl apply -k, CR Ready, pods as 65532 read-only,
#     Locust through the Ingress with grpcServer2 2->1->2 mid-load, exact counts, HPA out and in)
#  4. stops the node again if this suite started it (the host is restored; node.sh stop fails
#     when anything still differs)
# Output: out/test/cluster/ (hpa-timeline.txt, replicas.csv, counts.txt, locust*, pipeline.json,
# node logs copied to node-logs/). Needs OCI_REGISTRY (the bench registry; scripts/test starts it).
# Env: CLUSTER_LOAD_SECONDS (150), CLUSTER_USERS (20), CLUSTER_KEEP_NODE=1 (leave the node running),
# CLUSTER_IMAGES_ARGS (extra scripts/images options, e.g. --no-build to push binaries already built).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
out="${BF_TEST_OUT:-out/test}"
OUT="$out/cluster"
rm -rf "$OUT"; mkdir -p "$OUT"
if [ -f .bench/env ]; then set -a; . .bench/env; set +a; fi
[ -n "${OCI_REGISTRY:-}" ] || { echo "80-cluster: no OCI_REGISTRY (start the bench registry: scripts/bench/registry.sh start)" >&2; exit 1; }
NODE=scripts/bench/node.sh
t_suite=$(date +%s)
phase() { echo "==== $* ($(( $(date +%s) - t_suite )) s into the suite)"; }

load_node_env() {
  set -a
  # shellcheck disable=SC1090
  . <(bash "$NODE" env)
  set +a
}
started=0
if bash "$NODE" status >/dev/null 2>&1; then
  phase "reusing the running node: resetting it"
  load_node_env
  k() { "$NODE_KUBECTL" --kubeconfig "$NODE_KUBECONFIG" "$@"; }
  k delete blackfridaypipelines --all --wait=true --timeout=120s || true
  k delete namespace ingest valkey grafana kafka --ignore-not-found --wait=true --timeout=180s || true
  k delete -k "$OUT/../cluster-overlay" --ignore-not-found >/dev/null 2>&1 || true
  k delete namespace blackfriday-system --ignore-not-found --wait=true --timeout=120s || true
  bash "$NODE" valkey cli -h "${NODE_VALKEY_ADDR%:*}" -p "${NODE_VALKEY_ADDR##*:}" \
    -a "$(cat "$NODE_VALKEY_PASSWORD_FILE")" --no-auth-warning FLUSHALL >/dev/null
  bash "$NODE" kafka java org.apache.kafka.tools.TopicCommand --bootstrap-server "$NODE_KAFKA_BOOTSTRAP" \
    --delete --if-exists --topic ventas >/dev/null 2>&1 || true
else
  phase "starting the node"
  bash "$NODE" start || { echo "80-cluster: the node did not start" >&2; exit 1; }
  started=1
  load_node_env
fi
stop_node() {
  mkdir -p "$OUT/node-logs"
  cp -r .bench/node/logs/. "$OUT/node-logs/" 2>/dev/null || true
  if [ "$started" = 1 ] && [ "${CLUSTER_KEEP_NODE:-0}" != 1 ]; then
    phase "stopping the node (host restore is checked)"
    bash "$NODE" stop || { echo "80-cluster: node stop did not restore the host" >&2; return 1; }
  fi
}

rc=0
TAG="cluster-$(git describe --always --dirty 2>/dev/null || echo dev)"
phase "images and catalogue → $OCI_REGISTRY (tag $TAG)"
# shellcheck disable=SC2086  # extra options are words
if ! scripts/images --registry "$OCI_REGISTRY" --tag "$TAG" ${CLUSTER_IMAGES_ARGS:-} > "$OUT/images.log" 2>&1; then
  tail -n 30 "$OUT/images.log"; echo "80-cluster: scripts/images failed" >&2; rc=1
fi
grep -E '^images: .*(sha256|MiB)' "$OUT/images.log" | tail -n 5 || true
if [ "$rc" = 0 ] && ! locust/push-catalog.sh "$OCI_REGISTRY/blackfriday/catalog:$TAG" > "$OUT/catalog.log" 2>&1; then
  tail -n 20 "$OUT/catalog.log"; echo "80-cluster: catalogue push failed" >&2; rc=1
fi
if [ "$rc" = 0 ] && ! bash "$NODE" kafka topic ventas 3 > "$OUT/topic.log" 2>&1; then
  tail -n 20 "$OUT/topic.log"; echo "80-cluster: topic creation failed" >&2; rc=1
fi

if [ "$rc" = 0 ]; then
  phase "pytest tests/cluster"
  CLUSTER_OUT="$OUT" CLUSTER_TAG="$TAG" OCI_REGISTRY="$OCI_REGISTRY" \
    python3 -m pytest tests/cluster -x -v -rA -s -p no:cacheprovider --junitxml="$out/80-cluster.xml" || rc=1
  cp -r "$OUT/overlay" "$out/cluster-overlay" 2>/dev/null || true
fi
if [ -s "$OUT/timeline.txt" ]; then
  echo "==== replicas and HPA over time (kubectl get hpa snapshots: $OUT/hpa-timeline.txt)"
  cat "$OUT/timeline.txt"
fi
stop_node || rc=1
phase "done (rc $rc)"
exit "$rc"
