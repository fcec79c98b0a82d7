#!/usr/bin/env bash
# IngressClass `nginx` (the pipeline's default spec.ingress.className), exposed by a
# LoadBalancer Service; Locust on the laptop targets its address (`kubectl get bfp` → Ingress
# condition shows it). ingress-nginx is archived upstream; to use F5 NGINX Ingress Controller
# instead: helm install nic oci://ghcr.io/nginx/charts/nginx-ingress --set controller.ingressClass.name=nginx
set -euo pipefail
VERSION=${INGRESS_NGINX_CHART_VERSION:-4.15.1}
helm repo add ingress-nginx https://kubernetes.github.io/ingress-nginx >/dev/null
helm upgrade --install ingress-nginx ingress-nginx/ingress-nginx --version "$VERSION" \
  --namespace ingress-nginx --create-namespace \
  --set controller.ingressClassResource.name=nginx \
  --set controller.service.type=LoadBalancer \
  --set controller.config.keep-alive-requests=10000 \
  --set controller.config.upstream-keepalive-connections=320 \
  ${REGISTRY:+--set controller.image.registry=$REGISTRY}
kubectl -n ingress-nginx rollout status deploy/ingress-nginx-controller --timeout=5m
