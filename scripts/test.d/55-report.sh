#!/usr/bin/env bash
# Suite: the technical report (docs/informe-tecnico.md, docs/report.md, docs/img/report-*.png).
#  1. pytest tests/report: the verdict rule (difference only when min–max ranges do not overlap),
#     the result-file readers (main-job run, bench-go writer output), the check catching a changed
#     result, an unknown template key refused
#  2. the committed render of the sample (docs/results/render/pipeline.yaml) equals what the operator
#     renders now (when the operator builds: scripts/test.d/40-operator.sh builds it first)
#  3. regenerating both documents and every figure from the committed docs/results reproduces the
#     committed files byte for byte (scripts/report --check)
# Cost: no services; five full regenerations (the tests) + the check, each drawing the figures:
# ≈ 2.5 min on the 2-core machine while it was busy with other work; the operator build is 40-operator's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
t0=$(date +%s)
python3 -m pytest tests/report -q -rA -p no:cacheprovider --junitxml="$out/55-report.xml"
if nice cargo build -q -p blackfriday-operator; then
  if ! target/debug/blackfriday-operator render -f config/samples/pipeline.yaml | diff -u docs/results/render/pipeline.yaml - >"$out/55-report-render.diff"; then
    head -n 40 "$out/55-report-render.diff" >&2
    echo "55-report: docs/results/render/pipeline.yaml is stale: scripts/report --render" >&2
    exit 1
  fi
  echo "55-report: docs/results/render/pipeline.yaml is the operator's current render"
else
  echo "55-report: the operator does not build; the render check fails" >&2
  exit 1
fi
python3 tools/report/report.py --check
echo "55-report: ok in $(( $(date +%s) - t0 ))s"
