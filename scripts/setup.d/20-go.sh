#!/usr/bin/env bash
# Go services (go-services/): protoc from Debian (protobuf-compiler 3.21.12, the version the
# committed generated code names), the pinned protoc-gen-go / protoc-gen-go-grpc plugins
# (installed by scripts/gen-proto.sh into .cache/go-proto-bin), and the module's dependencies.
# Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "20-go: $*" >&2; }
command -v go >/dev/null || { log "go is required (the polyglot machine ships it)"; exit 1; }
if ! command -v protoc >/dev/null; then
  log "apt-get install protobuf-compiler"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends protobuf-compiler >/dev/null
fi
nice "$ROOT/scripts/gen-proto.sh" --tools
cd "$ROOT/go-services"
GOFLAGS=-buildvcs=false go mod download
log "ready: $(go version | cut -d' ' -f3), $(protoc --version)"
