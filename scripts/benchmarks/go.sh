#!/usr/bin/env bash
# Benchmarks of the Go services (commands that print figures; not tests):
#   - writer: acknowledged sales/s through gRPC into Kafka at fixed concurrency. Rows, each run
#     once per round in rotated order: the writer as grpc-server runs it; the fair baseline
#     (franz-go defaults, ProduceSync one record per call); the naive baseline (kafka-go Writer
#     defaults, the peers' code). Prints each round, then median (min–max) per row and of the
#     ratios taken within a round (the robust figure on a busy machine);
#   - consumer: time to drain a pre-filled topic into Valkey, the real consumer vs a naive one
#     (one Valkey command per field per message), with Valkey commands per sale;
#   - aof (P4): the real consumer into Valkey with AOF everysec vs AOF off, rounds, ratio; with
#     --aof-replica each Valkey has a replica with the same setting (the default deployment: a
#     primary VM and a replica VM), which the primary feeds every write whether or not it keeps
#     an AOF. VALKEY_SERVER picks the server binary (default: the bench's).
# Uses the bench Kafka (scripts/testbed/kafka.sh) and private valkey-server instances from the
# bench's binaries; starts Kafka if it is not running and stops what it started.
#
#   scripts/benchmarks/go.sh [--concurrency N] [--duration 5s] [--rounds 5] [--extra-lingers 2ms,0s]
#                       [--sales 200000] [--only writer|consumer|aof]
#                       [--featured-category Belleza|""] [--naive-limit 5m] [--aof-replica]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
concurrency=64 duration=5s rounds=5 extra_lingers="" sales=200000 only="" naive_limit=5m featured=Belleza aof_replica=()
while [ $# -gt 0 ]; do
  case "$1" in
    --concurrency) concurrency="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --extra-lingers) extra_lingers="$2"; shift 2 ;;   # extra writer rows: Produce per call with these lingers
    --sales) sales="$2"; shift 2 ;;
    --naive-limit) naive_limit="$2"; shift 2 ;;
    --featured-category) featured="$2"; shift 2 ;;   # "" = price streams for every product
    --only) only="$2"; shift 2 ;;
    --aof-replica) aof_replica=(-replica); shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench-go: unknown option $1" >&2; exit 2 ;;
  esac
done

started=()
# absolute paths: the body below changes directory; a failed stop is reported, not hidden
cleanup() {
  local s
  for s in "${started[@]}"; do
    bash "$ROOT/scripts/testbed/$s.sh" stop >&2 || echo "bench-go: stopping $s failed" >&2
  done
}
trap cleanup EXIT
if ! bash scripts/testbed/kafka.sh status >/dev/null 2>&1; then
  bash scripts/testbed/kafka.sh start >&2
  started+=(kafka)
fi
set -a; . "${TESTBED_DIR:-$ROOT/.testbed}/env"; set +a   # the bench scripts write their env there
# only the binary is needed: the benchmark runs its own valkey-server instances
VALKEY_SERVER="${VALKEY_SERVER:-$(bash scripts/testbed/valkey.sh bin)}"

cd go-services
export GOFLAGS=-buildvcs=false
mkdir -p bin
nice go build -o bin/bench ./benchmarks
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
if [ -z "$only" ] || [ "$only" = writer ]; then
  bin/bench writer -brokers "$KAFKA_BOOTSTRAP" -concurrency "$concurrency" -duration "$duration" -rounds "$rounds" -extra-lingers "$extra_lingers"
fi
if [ -z "$only" ] || [ "$only" = consumer ]; then
  bin/bench consumer -brokers "$KAFKA_BOOTSTRAP" -valkey-server "$VALKEY_SERVER" -sales "$sales" -naive-limit "$naive_limit" -featured-category "$featured"
fi
if [ -z "$only" ] || [ "$only" = aof ]; then
  bin/bench consumer-aof -brokers "$KAFKA_BOOTSTRAP" -valkey-server "$VALKEY_SERVER" -sales "$sales" -rounds "$rounds" -featured-category "$featured" "${aof_replica[@]}"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (figures from a busy machine vary; the in-round ratios are the robust part)"
