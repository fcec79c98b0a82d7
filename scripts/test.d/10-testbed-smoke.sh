#!/usr/bin/env bash
# Suite: smoke tests of the real bench services (tests/testbed: Kafka, Valkey, OCI registry, k8s).
# Needs the bench up (scripts/test does that and exports .testbed/env).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
exec python3 -m pytest tests/testbed -v -rA -p no:cacheprovider --junitxml="$out/10-testbed-smoke.xml" "$@"
