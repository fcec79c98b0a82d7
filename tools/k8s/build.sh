#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager (and kubectl with K8S_KUBECTL=1)
# from the Go module proxy into ~/.cache/blackfriday-operator/k8s/bin (shared by every clone; the stamp keys it). Idempotent: a stamp records the inputs
# (go.mod, go.sum, this script, go version, the binary set); when it matches and the binaries
# exist, nothing is done. go.mod/go.sum are committed; regenerate them with gen-gomod.sh.
#   env: K8S_BIN_DIR (default ~/.cache/blackfriday-operator/k8s/bin), K8S_KUBECTL=1 (also build kubectl),
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

# the stamp holds a hash of the inputs and the programs built with them; a build with kubectl
# also satisfies a later request without it
inputs=$( { cat go.mod go.sum "$here/build.sh"; go version; } | sha256sum | cut -c1-64)
stamp=$bin/.stamp
current=1
read -r s_inputs s_progs 2>/dev/null < "$stamp" || { s_inputs=; s_progs=; }
[ "$s_inputs" = "$inputs" ] || current=0
for p in "${progs[@]}"; do
  [ -x "$bin/$p" ] && [[ " $s_progs " == *" $p "* ]] || current=0
done
if [ "${K8S_FORCE:-0}" != 1 ] && [ "$current" = 1 ]; then
  echo "k8s binaries current in $bin (kubernetes v$K8S, etcd $ETCD)" >&2
  exit 0
fi

mkdir -p "$bin"
rm -f "$stamp"
echo "building kubernetes v$K8S + etcd $ETCD into $bin (${progs[*]}) ..." >&2
start=$(date +%s)
export CGO_ENABLED=0
N="nice -n ${K8S_NICE:-10}"
LDF="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S -X k8s.io/component-base/version.gitMajor=1
 -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/component-base/version.gitTreeState=clean
 -X k8s.io/client-go/pkg/version.gitVersion=v$K8S -X k8s.io/client-go/pkg/version.gitMajor=1
 -X k8s.io/client-go/pkg/version.gitMinor=$MINOR"
pkgs=()
for p in "${progs[@]}"; do [ "$p" = etcd ] || pkgs+=("k8s.io/kubernetes/cmd/$p"); done
# build into a temp dir and move, so an interrupted build never leaves a half-written binary
tmp=$(mktemp -d "$bin/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
$N go build -trimpath -ldflags "$LDF" -o "$tmp/" "${pkgs[@]}"
# explicit -o: go would name this binary "server" (the path element before /v3)
$N go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
for p in "${progs[@]}"; do mv -f "$tmp/$p" "$bin/$p"; done
echo "$inputs ${progs[*]}" > "$stamp"
echo "built in $(( $(date +%s) - start )) s: $(cd "$bin" && ls "${progs[@]}" | tr '\n' ' ')" >&2
