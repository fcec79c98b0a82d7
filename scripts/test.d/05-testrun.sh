#!/usr/bin/env bash
# Suite: the test runner's own tools (tools/testrun): the per-suite test counts of scripts/test and
# the leak check every suite runs under. Seconds; needs no bench.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
exec python3 -m pytest tests/testrun -v -rA -p no:cacheprovider --junitxml="$out/05-testrun.xml" "$@"
