#!/usr/bin/env bash
# Stop bench services: scripts/testbed/down.sh [SVC...]   (default: k8s registry valkey kafka)
# Each SVC is scripts/testbed/SVC.sh stop; missing scripts are skipped. Never stops at the first error.
set -uo pipefail
BENCH_SVC=down
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -gt 0 ] || set -- k8s registry valkey kafka
rc=0
for svc in "$@"; do
  script="$HERE/$svc.sh"
  [ -f "$script" ] || { bench_log "skipping $svc: no $script"; continue; }
  bash "$script" stop || { bench_log "$svc: stop failed"; rc=1; }
done
exit $rc
