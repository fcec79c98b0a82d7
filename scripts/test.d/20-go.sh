#!/usr/bin/env bash
# Go services suite: generated code up to date, go vet, go test (unit tests plus integration
# tests against the bench's real Kafka and Valkey; the runner exports KAFKA_BOOTSTRAP,
# VALKEY_SERVER and VALKEY_ADDR from .bench/env — without them those tests skip).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${KAFKA_BOOTSTRAP:-}" ] && [ -f "$ROOT/.bench/env" ]; then
  set -a; . "$ROOT/.bench/env"; set +a
fi
export GOFLAGS=-buildvcs=false
"$ROOT/scripts/gen-proto.sh" --check
cd "$ROOT/go-services"
nice go vet ./...
nice go test -count=1 -timeout 15m ./...
