#!/usr/bin/env bash
# rust-api: needs cargo (rustup) for its tests and Go for the benchmark's baseline; protoc is
# vendored by the build (protoc-bin-vendored), so nothing else. Fetches the crates so later
# builds don't wait on the registry. wrk, used only by scripts/benchmarks/rust-api.sh, is installed
# by that script when missing. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v cargo >/dev/null || { echo "30-rust-api: cargo (rustup) is required" >&2; exit 1; }
cd "$ROOT"
cargo fetch -q
