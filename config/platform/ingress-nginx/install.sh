#!/usr/bin/env bash
# OPTION (INGRESS=ingress-nginx): the community ingress-nginx, retired upstream (last release
# controller v1.15.1 / chart 4.15.1, 2026-03-19; no fixes since). Install it OR nginx-ingress/, never
# both (both claim class nginx). Its admission webhook is off, so the chart needs no
# kube-webhook-certgen job image; the controller image comes from $REGISTRY (mirror) when set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/platform/lib.sh
. "$here/../lib.sh"
image_args=()
if [ -n "$REGISTRY" ]; then
  image_args=(--set "controller.image.registry=$REGISTRY_HOST" --set "controller.image.image=${REGISTRY_PATH:+$REGISTRY_PATH/}ingress-nginx/controller"
              --set controller.image.digest= --set "controller.image.tag=$INGRESS_NGINX_VERSION")
fi
run helm upgrade --install ingress-nginx ingress-nginx --repo https://kubernetes.github.io/ingress-nginx \
  --version "$INGRESS_NGINX_CHART_VERSION" --namespace ingress-nginx --create-namespace \
  --set controller.ingressClassResource.name=nginx \
  --set controller.service.type=LoadBalancer \
  --set controller.admissionWebhooks.enabled=false \
  --set controller.config.keep-alive-requests=10000 \
  --set controller.config.upstream-keepalive-connections=320 \
  "${image_args[@]}"
run kubectl -n ingress-nginx rollout status deploy/ingress-nginx-controller --timeout=5m
