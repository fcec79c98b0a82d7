#!/usr/bin/env bash
# operator: cargo for the crate; Debian's cloud-init, only for its schema check of the Valkey
# VMs' user-data (disabled at once, so it never runs at boot on this machine). The
# real-apiserver tests use the bench's kube-apiserver (10-k8s.sh). Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v cargo >/dev/null || { echo "40-operator: cargo (rustup) is required" >&2; exit 1; }
if ! command -v cloud-init >/dev/null; then
  mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
  apt-get install -y --no-install-recommends cloud-init >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y --no-install-recommends cloud-init >/dev/null; }
fi
cd "$ROOT"
cargo fetch -q
