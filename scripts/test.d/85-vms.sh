#!/usr/bin/env bash
# Suite: the Valkey VMs boot for real (docs/valkey-vm.md).
#   1. scripts/vm-image builds the containerDisk (cached by its inputs) and pushes it to the bench
#      registry (OCI_REGISTRY, the stand-in for Zot) as blackfriday/valkey-vm:<tag>; image size
#      and build time are printed;
#   2. pytest tests/vms: the operator's rendered VirtualMachines (blackfriday-operator render -f
#      config/samples/pipeline.yaml) booted by QEMU as KubeVirt would (containerDisk overlay, data
#      PVC disk with its serial, the Secret disk, the NoCloud seed from the rendered user-data) on a
#      network namespace of their own (198.19.128.0/24): Valkey answers with the Secret's password,
#      the replica replicates, AOF data survives kill -9 of the primary's QEMU and a restart on the
#      same data disk, the killed replica rejoins. Boot times are printed.
# Needs root (network namespace, TAP devices). TCG unless a KVM probe boot succeeds (BF_VM_ACCEL).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
# shellcheck disable=SC1091
if [ -z "${OCI_REGISTRY:-}" ] && [ -f .testbed/env ]; then set -a; . .testbed/env; set +a; fi
bash scripts/setup.d/85-vms.sh || exit 1
if [ -z "${BF_OPERATOR_BIN:-}" ]; then
  nice cargo build -q -p blackfriday-operator || { echo "85-vms: the operator does not build"; exit 1; }
fi
push=(--no-push)
[ -z "${OCI_REGISTRY:-}" ] || push=(--registry "$OCI_REGISTRY")
start=$(date +%s)
scripts/vm-image "${push[@]}" || { echo "85-vms: scripts/vm-image failed"; exit 1; }
echo "85-vms: image step $(( $(date +%s) - start )) s"
BF_VM_QCOW2="$(scripts/vm-image --print-qcow2)" || exit 1
export BF_VM_QCOW2
cd tests/vms && exec python3 -m pytest . -v -s -rA -p no:cacheprovider --junitxml="$ROOT/$out/85-vms.xml" "$@"
