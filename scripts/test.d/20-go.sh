#!/usr/bin/env bash
# Go services suite: generated code up to date, go vet, go test (unit tests plus integration
# tests against the bench's real Kafka and Valkey; the runner exports KAFKA_BOOTSTRAP,
# VALKEY_SERVER and VALKEY_ADDR from .testbed/env — without them those tests skip, or fail in CI).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${KAFKA_BOOTSTRAP:-}" ] && [ -f "$ROOT/.testbed/env" ]; then
  set -a; . "$ROOT/.testbed/env"; set +a
fi
export GOFLAGS=-buildvcs=false
"$ROOT/scripts/gen-proto.sh" --check
cd "$ROOT/go-services"
nice go vet ./...
# -v: every test's PASS/SKIP line stays in the log (scripts/test counts them); with CI=true a
# missing bench variable fails its test (internal/testenv.Missing) instead of skipping it
nice go test -v -count=1 -timeout 15m ./...
