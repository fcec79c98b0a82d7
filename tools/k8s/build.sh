#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager (and kubectl with K8S_KUBECTL=1; the node
# programs kubelet, kube-scheduler and kube-proxy with K8S_NODE=1)
# from the Go module proxy into ~/.cache/blackfriday-operator/k8s/bin (shared by every clone; the stamp keys it). Idempotent: a stamp records the inputs
# (go.mod, go.sum, this script, go version, the binary set); when it matches and the binaries
# exist, nothing is done. go.mod/go.sum are committed; regenerate them with gen-gomod.sh.
#   env: K8S_BIN_DIR (default ~/.cache/blackfriday-operator/k8s/bin), K8S_KUBECTL=1 (also build kubectl),
#        K8S_NODE=1 (also build kubelet, kube-scheduler, kube-proxy: kubelet alone ~11 min cold, 1.6 GB RSS),
#        K8S_FORCE=1 (ignore the stamp), K8S_NICE (default 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${K8S_BIN_DIR:-${BF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blackfriday-operator}/k8s/bin}
cd "$here"
command -v go >/dev/null || { echo "build.sh: go toolchain not found" >&2; exit 1; }

K8S=$(sed -n 's#^\tk8s.io/kubernetes v\([^ ]*\).*$#\1#p' go.mod | head -1)
[ -n "$K8S" ] || { echo "build.sh: k8s.io/kubernetes not required in go.mod" >&2; exit 1; }
MINOR=$(echo "$K8S" | cut -d. -f2)
ETCD=$(sed -n 's#^\tgo.etcd.io/etcd/server/v3 \(v[^ ]*\).*$#\1#p' go.mod | head -1)

progs=(etcd kube-apiserver kube-controller-manager)
[ "${K8S_KUBECTL:-0}" = 1 ] && progs+=(kubectl)
[ "${K8S_NODE:-0}" = 1 ] && progs+=(kubelet kube-scheduler kube-proxy)

# one build at a time per cache: a second caller waits, then finds the programs current
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock -w 3600 9 || { echo "build.sh: could not lock $bin/.lock" >&2; exit 1; }

# the stamp holds a hash of the inputs and the programs built with them; programs already built
# with the same inputs are kept, so a later request for more programs builds only the missing ones
inputs=$( { cat go.mod go.sum "$here/build.sh"; go version; } | sha256sum | cut -c1-64)
stamp=$bin/.stamp
read -r s_inputs s_progs 2>/dev/null < "$stamp" || { s_inputs=; s_progs=; }
[ "$s_inputs" = "$inputs" ] && [ "${K8S_FORCE:-0}" != 1 ] || s_progs=
todo=()
for p in "${progs[@]}"; do
  [ -x "$bin/$p" ] && [[ " $s_progs " == *" $p "* ]] || todo+=("$p")
done
if [ ${#todo[@]} -eq 0 ]; then
  echo "k8s binaries current in $bin (kubernetes v$K8S, etcd $ETCD)" >&2
  exit 0
fi
keep=()
for p in $s_progs; do [ -x "$bin/$p" ] && keep+=("$p"); done

mkdir -p "$bin"
rm -f "$stamp"
echo "building kubernetes v$K8S + etcd $ETCD into $bin (${todo[*]}) ..." >&2
start=$(date +%s)
export CGO_ENABLED=0
N="nice -n ${K8S_NICE:-10}"
LDF="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S -X k8s.io/component-base/version.gitMajor=1
 -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/component-base/version.gitTreeState=clean
 -X k8s.io/client-go/pkg/version.gitVersion=v$K8S -X k8s.io/client-go/pkg/version.gitMajor=1
 -X k8s.io/client-go/pkg/version.gitMinor=$MINOR"
pkgs=()
for p in "${todo[@]}"; do [ "$p" = etcd ] || pkgs+=("k8s.io/kubernetes/cmd/$p"); done
# build into a temp dir and move, so an interrupted build never leaves a half-written binary
tmp=$(mktemp -d "$bin/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[ ${#pkgs[@]} -eq 0 ] || $N go build -trimpath -ldflags "$LDF" -o "$tmp/" "${pkgs[@]}"
# explicit -o: go would name this binary "server" (the path element before /v3)
if [[ " ${todo[*]} " == *" etcd "* ]]; then
  $N go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
fi
for p in "${todo[@]}"; do mv -f "$tmp/$p" "$bin/$p"; done
echo "$inputs ${keep[*]} ${todo[*]}" > "$stamp"
echo "built in $(( $(date +%s) - start )) s: ${todo[*]}" >&2
