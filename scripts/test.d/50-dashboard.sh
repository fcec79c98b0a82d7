#!/usr/bin/env bash
# Suite: the Grafana dashboard (operator/assets/grafana/dashboard.json).
#  1. Grafana's published schema: @grafana/schema's Dashboard type → JSON Schema (ts-json-schema-generator)
#     → ajv (tools/dashboard/validate-schema.mjs)
#  2. the committed JSON equals its generator (tools/dashboard/gen_dashboard.py --check)
#  3. project lint: unique ids, datasource uid provisioned, no overlapping gridPos, every wireframe panel
#  4. pytest tests/dashboard: lint negatives, wireframe layout, every panel query against a real Valkey
#     (filled by the real consumer from real Kafka records when the consumer is built), the datasource
#     provisioning the operator renders
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
[ -d tools/dashboard/node_modules/@grafana/schema ] || bash scripts/setup.d/60-main-job.sh
# the real programs the checks use: the operator (render) and the consumer (fills Valkey from Kafka).
# A build failure ends the suite: testing a stale binary left from an earlier build proves nothing.
if [ -z "${BF_OPERATOR_BIN:-}" ]; then
  nice cargo build -q -p blackfriday-operator || { echo "50-dashboard: FAILED: the operator does not build" >&2; exit 1; }
fi
(cd go-services && nice go build -o bin/ ./cmd/consumer) || { echo "50-dashboard: FAILED: the consumer does not build" >&2; exit 1; }
node tools/dashboard/validate-schema.mjs operator/assets/grafana/dashboard.json
python3 tools/dashboard/gen_dashboard.py --check
tools/dashboard/dashboard lint
exec python3 -m pytest tests/dashboard -v -rA -p no:cacheprovider --junitxml="$out/50-dashboard.xml" "$@"
