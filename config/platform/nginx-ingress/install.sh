#!/usr/bin/env bash
# F5 NGINX Ingress Controller (the default ingress; class nginx). CLOUD=eks adds values-aws.yaml
# (an AWS Network Load Balancer). Image from $REGISTRY (mirror) when set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/platform/lib.sh
. "$here/../lib.sh"
extra=()
[ "${CLOUD:-}" = eks ] && extra+=(-f "$here/values-aws.yaml")
run helm upgrade --install nginx-ingress oci://ghcr.io/nginx/charts/nginx-ingress --version "$NGINX_INGRESS_CHART_VERSION" \
  --namespace nginx-ingress --create-namespace -f "$here/values.yaml" "${extra[@]}" \
  --set controller.image.repository="$(image_repo docker.io nginx/nginx-ingress)" \
  --set controller.image.tag="$NGINX_INGRESS_VERSION"
run kubectl -n nginx-ingress rollout status deploy/nginx-ingress-controller --timeout=5m
