#!/usr/bin/env bash
# Install every platform add-on in dependency order (idempotent: each is `helm upgrade --install`
# or `kubectl apply`).
#   REGISTRY=<zot>/mirror   pull the add-on images from Zot (mirror-images.sh filled it); unset = upstream
#   INGRESS=nginx           F5 NGINX Ingress Controller, class nginx (default) | ingress-nginx (retired upstream)
#   CLOUD=gke|eks|other     gke: metrics-server is built in; eks: NLB annotations on the ingress Service
#   ZOT_CA_FILE=<ca.crt>    Zot's CA, for Grafana's plugin init container (https to Zot)
#   KUBEVIRT_EMULATION=true nodes without /dev/kvm;  WITH_CDI=true  dataVolume disks
# Flags: --dry-run prints every helm/kubectl command instead of running it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/platform/lib.sh
. "$here/lib.sh"
parse_common_flags "$0" "$@"
INGRESS=${INGRESS:-nginx}
case "$INGRESS" in nginx) ingress_dir=nginx-ingress ;; ingress-nginx) ingress_dir=ingress-nginx ;;
  *) die "INGRESS must be nginx (F5 NGINX Ingress Controller) or ingress-nginx, got '$INGRESS'" ;; esac
for addon in metrics-server strimzi kubevirt "$ingress_dir" grafana; do
  step "platform: $addon"
  bash "$here/$addon/install.sh"
done
echo "platform ready: next the operator (helm or kubectl apply -k config/default) and config/samples/pipeline.yaml"
