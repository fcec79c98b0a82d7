#!/usr/bin/env bash
# Suite: smoke tests of the real bench services (tests/bench: Kafka, Valkey, OCI registry, k8s).
# Needs the bench up (scripts/test does that and exports .bench/env).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
exec python3 -m pytest tests/bench -v -rA -p no:cacheprovider --junitxml="$out/10-bench-smoke.xml" "$@"
