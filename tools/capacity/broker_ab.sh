#!/usr/bin/env bash
# Broker settings A/B (docs/capacity.md, "Third round: the broker on 2 cores"): for each round,
# for each variant in turn (interleaved, so a slow spell of the shared machine hits every variant),
# start a fresh bench broker with the variant's environment (scripts/testbed/kafka.sh: KAFKA_HEAP,
# KAFKA_JVM_OPTS, KAFKA_EXTRA_PROPS), run scripts/benchmarks/pipeline against it, take the broker's
# CPU per thread group over the run (tools/capacity/jvm_threads.py), stop the broker.
#
#   tools/capacity/broker_ab.sh OUT ROUNDS 'NAME[;VAR=value...]'... -- PIPELINE-ARGS...
#
#   tools/capacity/broker_ab.sh out/broker-ab 3 g1 'serial;KAFKA_JVM_OPTS=-XX:+UseSerialGC' \
#     'threads-1;KAFKA_EXTRA_PROPS=num.network.threads=1 num.io.threads=1' \
#     -- --modes rest --configs full --rates 2000,3000 --step-seconds 8 --repeats 1 --no-build
#
# Ports and state follow KAFKA_PORT, KAFKA_CONTROLLER_PORT, TESTBED_DIR like scripts/testbed/*;
# a broker already running there is stopped first (each variant starts fresh). Valkey is reused
# if it runs, else the pipeline starts and stops it each run. Then tools/capacity/broker_ab.py OUT
# prints the comparison and writes one JSON per variant.
#
# WARMUP_ARGS (e.g. '--rates 3000 --step-seconds 30'): a pipeline run before the measured one on
# each fresh broker, neither measured nor in the thread snapshot, so the JIT compilers' warm-up
# (half the broker's CPU in the first half minute of load) does not drown what the variant changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[ $# -ge 4 ] || { sed -n 2,17p "$0" >&2; exit 2; }
OUT="$1" ROUNDS="$2"; shift 2
VARIANTS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do VARIANTS+=("$1"); shift; done
[ "${1:-}" = -- ] || { echo "broker_ab: '--' and the pipeline's arguments missing" >&2; exit 2; }
shift
mkdir -p "$OUT"
TESTBED_DIR="${TESTBED_DIR:-$ROOT/.testbed}"
trap 'bash scripts/testbed/kafka.sh stop >/dev/null 2>&1 || true' EXIT

for round in $(seq "$ROUNDS"); do
  for spec in "${VARIANTS[@]}"; do
    name="${spec%%;*}" dir="$OUT/$name-$round"
    env_words=()
    IFS=';' read -ra assigns <<< "$spec"
    for a in "${assigns[@]:1}"; do env_words+=("$a"); done
    echo "==> [$(date -u +%H:%M:%S)] round $round, $name (${env_words[*]:-defaults}), load average $(cut -d' ' -f1 /proc/loadavg)"
    rm -rf "$dir"; mkdir -p "$dir"
    bash scripts/testbed/kafka.sh stop >>"$dir/broker.log" 2>&1
    env "${env_words[@]}" bash scripts/testbed/kafka.sh start >>"$dir/broker.log" 2>&1 \
      || { tail -n 20 "$dir/broker.log" >&2; exit 1; }
    cp "$TESTBED_DIR/kafka/server.properties" "$dir/"
    pid="$(cat "$TESTBED_DIR/kafka/kafka.pid")"
    tr '\0' ' ' < "/proc/$pid/cmdline" > "$dir/cmdline"
    if [ -n "${WARMUP_ARGS:-}" ]; then
      # shellcheck disable=SC2086
      scripts/benchmarks/pipeline --out "$dir/warmup" "$@" $WARMUP_ARGS > "$dir/warmup.log" 2>&1 \
        || { tail -n 20 "$dir/warmup.log" >&2; exit 1; }
    fi
    python3 tools/capacity/jvm_threads.py snap "$pid" "$dir/threads-before.json"
    rc=0
    scripts/benchmarks/pipeline --out "$dir/pipeline" "$@" > "$dir/pipeline.log" 2>&1 || rc=$?
    python3 tools/capacity/jvm_threads.py snap "$pid" "$dir/threads-after.json"
    echo "$rc" > "$dir/rc"
    grep -E 'EXACT|MISMATCH|FAILED' "$dir/pipeline.log" | sed 's/^/    /' || true
    bash scripts/testbed/kafka.sh stop >>"$dir/broker.log" 2>&1
  done
done
echo "broker_ab: done; python3 tools/capacity/broker_ab.py $OUT"
