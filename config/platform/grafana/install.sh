#!/usr/bin/env bash
# Grafana 13.2 (chart 12.11.1, grafana-community) in namespace `grafana` (spec.grafana.namespace).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION=${GRAFANA_CHART_VERSION:-12.11.1}
helm upgrade --install grafana oci://ghcr.io/grafana-community/helm-charts/grafana --version "$VERSION" \
  --namespace grafana --create-namespace -f "$here/values.yaml" \
  ${REGISTRY:+--set global.imageRegistry=$REGISTRY}
kubectl -n grafana rollout status deploy/grafana --timeout=10m
