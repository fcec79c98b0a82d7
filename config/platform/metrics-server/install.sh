#!/usr/bin/env bash
# metrics-server: the HPAs' CPU source. Skip on GKE (built in). On EKS the community add-on
# (`aws eks create-addon --addon-name metrics-server`) is the alternative.
set -euo pipefail
VERSION=${METRICS_SERVER_CHART_VERSION:-3.13.0}
if kubectl get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1; then
  echo "metrics.k8s.io already served; nothing to do"; exit 0
fi
helm repo add metrics-server https://kubernetes-sigs.github.io/metrics-server/ >/dev/null
helm upgrade --install metrics-server metrics-server/metrics-server --version "$VERSION" \
  --namespace kube-system ${REGISTRY:+--set image.repository=$REGISTRY/metrics-server/metrics-server}
kubectl -n kube-system rollout status deploy/metrics-server --timeout=5m
