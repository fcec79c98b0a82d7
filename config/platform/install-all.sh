#!/usr/bin/env bash
# Install every platform add-on in dependency order. Env: REGISTRY (optional Zot host:port for
# the add-ons' images), KUBEVIRT_EMULATION (true without /dev/kvm), WITH_CDI (true for dataVolume disks).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for addon in metrics-server strimzi kubevirt ingress-nginx grafana; do
  echo "==== $addon ===="
  bash "$here/$addon/install.sh"
done
echo "platform ready: now kubectl apply -k config/default && kubectl apply -f config/samples/pipeline.yaml"
