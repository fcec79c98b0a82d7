# shellcheck shell=bash
# Sourced by the suites in scripts/test.d that keep an output folder and print timed phases
# (80-cluster, 82-netpol):
#   suite_begin NAME   cd to the repo root (ROOT), out=<BF_TEST_OUT or out/test>, OUT=$out/NAME emptied,
#                      the testbed's env loaded when the file exists, the suite clock started
#   phase TEXT...      "==== TEXT (N s into the suite)"
suite_begin() {
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  cd "$ROOT" || exit 1
  out="${BF_TEST_OUT:-out/test}"   # the runner's folder (junit files)
  OUT="$out/$1"
  rm -rf "$OUT"; mkdir -p "$OUT"
  # shellcheck disable=SC1091  # written by scripts/testbed at run time
  if [ -f .testbed/env ]; then set -a; . .testbed/env; set +a; fi
  t_suite=$(date +%s)
}
phase() { echo "==== $* ($(( $(date +%s) - t_suite )) s into the suite)"; }
