#!/usr/bin/env bash
# KubeVirt v1.9.0 (+ CDI v1.66.0 when WITH_CDI=true, needed only for valkey.disk.source dataVolume).
# KUBEVIRT_EMULATION=true turns on software emulation for nodes without /dev/kvm.
set -euo pipefail
VERSION=${KUBEVIRT_VERSION:-v1.9.0}
CDI_VERSION=${CDI_VERSION:-v1.66.0}
BASE=https://github.com/kubevirt/kubevirt/releases/download/$VERSION
kubectl apply -f "$BASE/kubevirt-operator.yaml"
kubectl apply -f "$BASE/kubevirt-cr.yaml"
if [ "${KUBEVIRT_EMULATION:-false}" = true ]; then
  kubectl -n kubevirt patch kubevirt kubevirt --type merge \
    -p '{"spec":{"configuration":{"developerConfiguration":{"useEmulation":true}}}}'
fi
# On managed clusters (GKE) virt-api/virt-controller have been seen Pending until nodes carry the
# control-plane role label; if `kubectl -n kubevirt get pods` shows that, label the worker nodes:
#   kubectl label nodes --all node-role.kubernetes.io/control-plane= --overwrite
kubectl -n kubevirt wait kv kubevirt --for condition=Available --timeout=15m
if [ "${WITH_CDI:-false}" = true ]; then
  CDI=https://github.com/kubevirt/containerized-data-importer/releases/download/$CDI_VERSION
  kubectl apply -f "$CDI/cdi-operator.yaml"
  kubectl apply -f "$CDI/cdi-cr.yaml"
  kubectl wait cdi cdi --for condition=Available --timeout=15m
fi
