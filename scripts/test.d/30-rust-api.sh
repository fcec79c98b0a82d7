#!/usr/bin/env bash
# rust-api suite: unit, HTTP-level, property and loopback forwarding tests (cargo test).
# Needs only cargo: protoc is vendored, the fake downstreams run in-process on loopback.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
nice cargo test -p rust-api -p bf-loadgen   # bf-loadgen: scripts/benchmarks/pipeline's load generator
# The Go baseline of the benchmark is tiny and standard-library only: keep it compiling.
if command -v go >/dev/null; then
  (cd tools/go-forwarder && go vet ./... && go test -v -count=1 ./...)
fi
