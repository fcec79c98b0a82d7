#!/usr/bin/env bash
# operator: only cargo is needed (the real-apiserver tests use the bench's kube-apiserver,
# set up by 10-k8s.sh). Fetches the crates so later builds don't wait on the registry. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v cargo >/dev/null || { echo "40-operator: cargo (rustup) is required" >&2; exit 1; }
cd "$ROOT"
cargo fetch -q
