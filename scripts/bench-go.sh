#!/usr/bin/env bash
# Benchmarks of the Go services (commands that print figures; not tests):
#   - writer: acknowledged sales/s through gRPC into Kafka at fixed concurrency, the real writer
#     vs a naive writer (sync produce of one record per call with default client settings);
#   - consumer: time to drain a pre-filled topic into Valkey, the real consumer vs a naive one
#     (one Valkey command per field per message), with Valkey commands per sale.
# Both ratios are printed in the same run. Uses the bench Kafka (scripts/bench/kafka.sh) and a
# private valkey-server from the bench's binaries; starts Kafka if it is not running and stops
# what it started.
#
#   scripts/bench-go.sh [--concurrency N] [--duration 10s] [--sales 200000] [--only writer|consumer]
#                       [--featured-category Belleza|""] [--naive-limit 5m]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
concurrency=64 duration=10s sales=200000 only="" naive_limit=5m featured=Belleza
while [ $# -gt 0 ]; do
  case "$1" in
    --concurrency) concurrency="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --sales) sales="$2"; shift 2 ;;
    --naive-limit) naive_limit="$2"; shift 2 ;;
    --featured-category) featured="$2"; shift 2 ;;   # "" = price streams for every product
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench-go: unknown option $1" >&2; exit 2 ;;
  esac
done

started=()
# absolute paths: the body below changes directory; a failed stop is reported, not hidden
cleanup() {
  local s
  for s in "${started[@]}"; do
    bash "$ROOT/scripts/bench/$s.sh" stop >&2 || echo "bench-go: stopping $s failed" >&2
  done
}
trap cleanup EXIT
if ! bash scripts/bench/kafka.sh status >/dev/null 2>&1; then
  bash scripts/bench/kafka.sh start >&2
  started+=(kafka)
fi
set -a; . .bench/env; set +a
# only the binary is needed: the benchmark runs its own valkey-server instances
VALKEY_SERVER="${VALKEY_SERVER:-$(bash scripts/bench/valkey.sh bin)}"

cd go-services
export GOFLAGS=-buildvcs=false
mkdir -p bin
nice go build -o bin/bench ./bench
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
if [ -z "$only" ] || [ "$only" = writer ]; then
  bin/bench writer -brokers "$KAFKA_BOOTSTRAP" -concurrency "$concurrency" -duration "$duration"
fi
if [ -z "$only" ] || [ "$only" = consumer ]; then
  bin/bench consumer -brokers "$KAFKA_BOOTSTRAP" -valkey-server "$VALKEY_SERVER" -sales "$sales" -naive-limit "$naive_limit" -featured-category "$featured"
fi
