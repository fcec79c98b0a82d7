#!/usr/bin/env bash
# Set-up for the single-node Kubernetes bench (scripts/testbed/node.sh). Idempotent.
#  - Debian: containerd (1.6), runc, containernetworking-plugins (bridge, host-local, portmap,
#    loopback in /usr/lib/cni), iptables (kube-proxy, kubelet, kube-router), conntrack (kube-proxy's
#    clean-up of UDP flows), ipset (kube-router's NetworkPolicy sets), gcc + libc6-dev (the static
#    pause binary)
#  - Go modules of tools/node (CoreDNS, metrics-server, Traefik, kube-router), downloaded here so the build
#    step needs no network; the kubelet/kube-scheduler/kube-proxy modules are tools/k8s's
# The Debian containerd package ships a systemd unit; nothing here starts it (node.sh runs its own
# containerd with state under .testbed/node/).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
log() { echo "15-node: $*" >&2; }

need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/portmap ] \
  && [ -x /usr/lib/cni/loopback ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
command -v conntrack >/dev/null || need+=(conntrack)
command -v ipset >/dev/null || need+=(ipset)
command -v gcc >/dev/null || need+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  }
fi
command -v go >/dev/null || { log "ERROR: no go toolchain (the node's programs are built from Go modules)"; exit 1; }
for m in "$ROOT"/tools/node/*/go.mod; do
  [ -e "$m" ] || continue
  (cd "$(dirname "$m")" && go mod download)
done
log "ok ($(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}'))"
