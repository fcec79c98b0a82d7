# shellcheck shell=bash
# Sourced by scripts/test.d/80-cluster.sh and scripts/cluster-job: the bench node ready for one
# pipeline run. Needs ROOT (repo root), OUT (output folder), OCI_REGISTRY, and phase() for progress.
#
#   cluster_node_up      start the node (builds what is missing), or reset a running one: pipeline,
#                        operator and their namespaces deleted, Valkey flushed, the topic deleted.
#                        Sets CLUSTER_STARTED=1 when it started the node; exports the NODE_* lines.
#   cluster_push TAG     the five program images (scripts/images; CLUSTER_IMAGES_ARGS adds options)
#                        and the catalogue under TAG, then the topic `ventas` (3 partitions)
#   cluster_node_down    copies the node's logs to $OUT/node-logs; stops the node if this run
#                        started it (node.sh stop checks the host restore) unless CLUSTER_KEEP_NODE=1
NODE="$ROOT/scripts/testbed/node.sh"
CLUSTER_STARTED=0

cluster_load_env() {
  set -a
  # shellcheck disable=SC1090
  . <(bash "$NODE" env)
  set +a
}

cluster_node_up() {
  if bash "$NODE" status >/dev/null 2>&1; then
    phase "reusing the running node: resetting it"
    cluster_load_env
    local k=("$NODE_KUBECTL" --kubeconfig "$NODE_KUBECONFIG")
    "${k[@]}" delete blackfridaypipelines --all --wait=true --timeout=120s || true
    "${k[@]}" delete namespace ingest valkey grafana kafka --ignore-not-found --wait=true --timeout=180s || true
    "${k[@]}" delete -k "$ROOT/config/default" --ignore-not-found >/dev/null 2>&1 || true
    "${k[@]}" delete namespace blackfriday-system --ignore-not-found --wait=true --timeout=120s || true
    bash "$NODE" valkey cli -h "${NODE_VALKEY_ADDR%:*}" -p "${NODE_VALKEY_ADDR##*:}" \
      -a "$(cat "$NODE_VALKEY_PASSWORD_FILE")" --no-auth-warning FLUSHALL >/dev/null
    bash "$NODE" kafka java org.apache.kafka.tools.TopicCommand --bootstrap-server "$NODE_KAFKA_BOOTSTRAP" \
      --delete --if-exists --topic ventas >/dev/null 2>&1 || true
  else
    phase "starting the node"
    bash "$NODE" start || { echo "the bench node did not start" >&2; return 1; }
    CLUSTER_STARTED=1
    cluster_load_env
  fi
}

cluster_push() {
  local tag="$1"
  phase "images and catalogue → $OCI_REGISTRY (tag $tag)"
  # shellcheck disable=SC2086  # extra options are words
  if ! "$ROOT/scripts/images" --registry "$OCI_REGISTRY" --tag "$tag" ${CLUSTER_IMAGES_ARGS:-} > "$OUT/images.log" 2>&1; then
    tail -n 30 "$OUT/images.log"; echo "scripts/images failed" >&2; return 1
  fi
  grep -E '^images: .*(sha256|MiB)' "$OUT/images.log" | tail -n 5 || true
  if ! "$ROOT/locust/push-catalog.sh" "$OCI_REGISTRY/blackfriday/catalog:$tag" > "$OUT/catalog.log" 2>&1; then
    tail -n 20 "$OUT/catalog.log"; echo "catalogue push failed" >&2; return 1
  fi
  if ! bash "$NODE" kafka topic ventas 3 > "$OUT/topic.log" 2>&1; then
    tail -n 20 "$OUT/topic.log"; echo "topic creation failed" >&2; return 1
  fi
}

cluster_node_down() {
  mkdir -p "$OUT/node-logs"
  cp -r "$ROOT/.testbed/node/logs/." "$OUT/node-logs/" 2>/dev/null || true
  if [ "$CLUSTER_STARTED" = 1 ] && [ "${CLUSTER_KEEP_NODE:-0}" != 1 ]; then
    phase "stopping the node (host restore is checked)"
    bash "$NODE" stop || { echo "node stop did not restore the host" >&2; return 1; }
  fi
}
