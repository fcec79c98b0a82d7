#!/usr/bin/env bash
# Suite: the Grafana dashboard (operator/assets/grafana/dashboard.json).
#  1. Grafana's published schema: @grafana/schema's Dashboard type → JSON Schema (ts-json-schema-generator)
#     → ajv (tools/dashboard/validate-schema.mjs)
#  2. the committed JSON equals its generator (tools/dashboard/gen_dashboard.py --check)
#  3. project lint: unique ids, datasource uid provisioned, no overlapping gridPos, every wireframe panel
#  4. pytest tests/dashboard: lint negatives, wireframe layout, every panel query against a real Valkey
#     (filled by the real consumer from real Kafka records when the consumer is built), the datasource
#     provisioning and dashboard objects the operator renders, decoded, against Grafana's provisioning
#     fields and the sidecar labels of config/platform/grafana/values.yaml
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
[ -d tools/dashboard/node_modules/@grafana/schema ] || bash scripts/setup.d/60-main-job.sh
# the real programs the checks use: the operator (render) and the consumer (fills Valkey from Kafka)
if [ -f operator/Cargo.toml ] && [ -z "${BF_OPERATOR_BIN:-}" ]; then
  # a failed build must fail the suite: a stale binary from an earlier build would be tested
  nice cargo build -q -p blackfriday-operator || { echo "50-dashboard: the operator does not build" >&2; exit 1; }
fi
if [ -d go-services/cmd/consumer ]; then
  (cd go-services && nice go build -o bin/ ./cmd/consumer) || { echo "50-dashboard: the consumer does not build" >&2; exit 1; }
fi
node tools/dashboard/validate-schema.mjs operator/assets/grafana/dashboard.json
python3 tools/dashboard/gen_dashboard.py --check
tools/dashboard/dashboard lint
exec python3 -m pytest tests/dashboard -v -rA -p no:cacheprovider --junitxml="$out/50-dashboard.xml" "$@"
