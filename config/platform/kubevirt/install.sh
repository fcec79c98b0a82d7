#!/usr/bin/env bash
# KubeVirt v1.9.0 (+ CDI v1.66.0 when WITH_CDI=true, needed only for valkey.disk.source dataVolume)
# on managed clusters (GKE, EKS) whose workers carry no control-plane label:
#   - kubevirt-operator.yaml is downloaded and its quay.io/kubevirt images rewritten to $REGISTRY;
#   - virt-operator's Deployment gets any-Linux-node placement (virt-operator-placement.json: a
#     merge patch that drops a control-plane node affinity/selector if the manifest has one);
#   - the KubeVirt CR (kubevirt-cr.yaml) sets spec.infra.nodePlacement, which stops virt-operator
#     from giving virt-api/virt-controller their required control-plane affinity, and puts
#     virt-handler/VMs on the nodes labelled blackfriday.dev/kubevirt=true.
# KUBEVIRT_EMULATION=true turns on software emulation for nodes without /dev/kvm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/platform/lib.sh
. "$here/../lib.sh"
BASE="https://github.com/kubevirt/kubevirt/releases/download/$KUBEVIRT_VERSION"
manifest="$PLATFORM_WORK/kubevirt-operator.yaml"
run curl -fsSL --retry 3 -o "$manifest" "$BASE/kubevirt-operator.yaml"
if [ -n "$REGISTRY" ]; then
  run sed -i "s#quay.io/kubevirt/#$REGISTRY/kubevirt/#g" "$manifest"
fi
run kubectl apply --server-side -f "$manifest"
run kubectl -n kubevirt patch deployment virt-operator --type merge --patch-file "$here/virt-operator-placement.json"
run kubectl -n kubevirt rollout status deploy/virt-operator --timeout=10m
run kubectl apply -f "$here/kubevirt-cr.yaml"
if [ -n "$REGISTRY" ]; then
  run kubectl -n kubevirt patch kubevirt kubevirt --type merge -p "{\"spec\":{\"imageRegistry\":\"$REGISTRY/kubevirt\"}}"
fi
if [ "${KUBEVIRT_EMULATION:-false}" = true ]; then
  run kubectl -n kubevirt patch kubevirt kubevirt --type merge \
    -p '{"spec":{"configuration":{"developerConfiguration":{"useEmulation":true}}}}'
fi
run kubectl -n kubevirt wait kv kubevirt --for condition=Available --timeout=20m
if [ "${WITH_CDI:-false}" = true ]; then
  CDI="https://github.com/kubevirt/containerized-data-importer/releases/download/$CDI_VERSION"
  cdi_manifest="$PLATFORM_WORK/cdi-operator.yaml"
  run curl -fsSL --retry 3 -o "$cdi_manifest" "$CDI/cdi-operator.yaml"
  if [ -n "$REGISTRY" ]; then
    run sed -i "s#quay.io/kubevirt/#$REGISTRY/kubevirt/#g" "$cdi_manifest"
  fi
  run kubectl apply --server-side -f "$cdi_manifest"
  run kubectl apply -f "$CDI/cdi-cr.yaml"
  run kubectl wait cdi cdi --for condition=Available --timeout=15m
fi
