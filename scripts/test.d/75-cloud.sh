#!/usr/bin/env bash
# Suite: the cloud recipes, checked offline (no cloud is contacted; docs/deploy-gke.md,
# docs/deploy-aws.md). pytest tests/cloud:
#   - shellcheck on every script under config/ (and this suite's own);
#   - `cloud-init schema` on the Zot VM's cloud-init (template and rendered), its boot order;
#   - Zot's config.json against zot's own config fields (config/cloud/zot/config.schema.json);
#   - the TLS certificate's SANs; the containerd hosts.toml generator (dash and bash);
#   - eksctl's ClusterConfig against eksctl's JSON schema, and its node bootstrap run in a sandbox;
#   - the --dry-run of gke/eks up.sh and down.sh with stub cloud tools that fail if called: the
#     commands expected, in order, no private address range we chose, amd64 image builds;
#   - every platform image comes from the Zot mirror and is in the mirror list;
#   - the operator's Helm chart: helm lint, helm template == kubectl kustomize config/default,
#     and the templated objects and the cloud pipeline's rendered children accepted by the
#     bench's kube-apiserver (server-side dry run, strict field validation; Strimzi and
#     KubeVirt VM CRDs loaded there).
# The render test uses target/debug/blackfriday-operator, which 40-operator builds first (run alone,
# the suite builds it with cargo; BF_OPERATOR_BIN=<binary> uses another build of the same sources).
# Cold cost: the Helm build from source (measured 1042 s on this 2-core machine under heavy load from
# other builds; cached in $BF_CACHE/helm/<version>) + the eksctl module zip (14 MB); warm: ~40 s.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
# shellcheck disable=SC1091
if [ -z "${KUBECONFIG:-}" ] && [ -f .testbed/env ]; then set -a; . .testbed/env; set +a; fi
t0=$(date +%s)
tools="$(bash scripts/setup.d/75-cloud.sh)" || { echo "75-cloud: set-up failed" >&2; exit 1; }
while IFS='=' read -r key value; do
  case "$key" in HELM|EKSCTL_SCHEMA) export "$key=$value" ;; esac
done <<< "$tools"
echo "75-cloud: tools ready in $(( $(date +%s) - t0 ))s (HELM=$HELM)"
exec python3 -m pytest tests/cloud -v -rA -p no:cacheprovider --junitxml="$out/75-cloud.xml" "$@"
