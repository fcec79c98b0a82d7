#!/usr/bin/env bash
# metrics-server: the HPAs' CPU source. Skipped when metrics.k8s.io is already served (GKE has it
# built in; the EKS recipe installs the metrics-server EKS add-on).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/platform/lib.sh
. "$here/../lib.sh"
if [ "${CLOUD:-}" = gke ] || [ "${CLOUD:-}" = eks ]; then
  echo "metrics.k8s.io comes with the cluster on $CLOUD; nothing to do"; exit 0
fi
if exists kubectl get apiservice v1beta1.metrics.k8s.io; then
  echo "metrics.k8s.io already served; nothing to do"; exit 0
fi
run helm upgrade --install metrics-server metrics-server --repo https://kubernetes-sigs.github.io/metrics-server/ \
  --version "$METRICS_SERVER_CHART_VERSION" --namespace kube-system \
  --set image.repository="$(image_repo registry.k8s.io metrics-server/metrics-server)" --set image.tag="$METRICS_SERVER_VERSION"
run kubectl -n kube-system rollout status deploy/metrics-server --timeout=5m
