#!/usr/bin/env bash
# Start bench services: scripts/testbed/up.sh [SVC...]   (default: kafka valkey registry k8s)
# Each SVC is scripts/testbed/SVC.sh start; a missing script is skipped with a message.
# Exits non-zero if any service failed to start (the others are still started).
# Afterwards `. .testbed/env` gives KAFKA_BOOTSTRAP, VALKEY_ADDR, OCI_REGISTRY, KUBECONFIG, ...
set -uo pipefail
BENCH_SVC=up
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -gt 0 ] || set -- kafka valkey registry k8s
failed=()
for svc in "$@"; do
  script="$HERE/$svc.sh"
  if [ ! -f "$script" ]; then
    bench_log "skipping $svc: $script does not exist"
    continue
  fi
  t0=$(date +%s)
  if bash "$script" start; then
    bench_log "$svc started ($(( $(date +%s) - t0 ))s)"
  else
    bench_log "$svc FAILED to start ($(( $(date +%s) - t0 ))s)"
    failed+=("$svc")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  bench_log "failed to start: ${failed[*]}"
  exit 1
fi
bench_log "bench up; environment in $TESTBED_ENV"
