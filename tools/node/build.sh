#!/usr/bin/env bash
# Builds the bench node's add-ons into ${BF_CACHE:-~/.cache/blackfriday-operator}/node/bin, each
# keyed by its own inputs (a stamp per program: hash of its go.mod/go.sum or source, this script
# and the compiler version), so a fresh clone on the same machine reuses them:
#   coredns         github.com/coredns/coredns (tools/node/coredns/go.mod)
#   metrics-server  sigs.k8s.io/metrics-server (tools/node/metrics-server/go.mod)
#   traefik         github.com/traefik/traefik/v3 (tools/node/traefik/go.mod)
#   kube-router     github.com/cloudnativelabs/kube-router/v2 (tools/node/kube-router/go.mod): only
#                   its NetworkPolicy firewall runs on the node (iptables + ipset from Debian)
#   pause           build/pause/linux/pause.c of the k8s.io/kubernetes module that tools/k8s pins,
#                   gcc -static (no registry serves a pause image here), plus pause.tar: an OCI
#                   image archive of it named node.local/pause:<tag>, for `ctr images import`
#   coredns.tar     the CoreDNS binary as the image node.local/coredns:<version> (cluster DNS runs
#                   as a pod, so NetworkPolicies can select it)
#   probe           tools/node/probe (ours, standard library) and probe.tar, the image
#                   node.local/probe:1 of the NetworkPolicy test's pods (scripts/test.d/82-netpol.sh)
# kubelet, kube-scheduler and kube-proxy come from tools/k8s/build.sh (K8S_NODE=1).
#   tools/node/build.sh [name...]      (default: all six)
#   env: NODE_BIN_DIR, NODE_FORCE=1, NODE_NICE (default 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${NODE_BIN_DIR:-${BF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blackfriday-operator}/node/bin}
N="nice -n ${NODE_NICE:-10}"
command -v go >/dev/null || { echo "node build: go toolchain not found" >&2; exit 1; }
mkdir -p "$bin"
# one build at a time per cache (two test runs starting at once would compile everything twice)
exec 9>"$bin/.lock"
flock -w 3600 9 || { echo "node build: could not lock $bin/.lock" >&2; exit 1; }
PAUSE_TAG=3.10.2   # build/pause/Makefile TAG of kubernetes v1.36
COREDNS_IMAGE=node.local/coredns:1.15.0
PROBE_IMAGE=node.local/probe:1

declare -A PKG=([coredns]=github.com/coredns/coredns [metrics-server]=sigs.k8s.io/metrics-server/cmd/metrics-server
                [traefik]=github.com/traefik/traefik/v3/cmd/traefik
                [kube-router]=github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)

pause_src() {
  local dir
  dir=$(cd "$root/tools/k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes 2>/dev/null) || true
  if [ -z "$dir" ] || [ ! -f "$dir/build/pause/linux/pause.c" ]; then
    (cd "$root/tools/k8s" && go mod download k8s.io/kubernetes)
    dir=$(cd "$root/tools/k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  fi
  echo "$dir/build/pause/linux/pause.c"
}

inputs_of() { # name -> hash of what the build reads
  { cat "$here/build.sh"
    case "$1" in
      pause) cat "$(pause_src)"; gcc --version | head -1; echo "$PAUSE_TAG" ;;
      probe) cat "$here/probe/main.go" "$here/probe/go.mod"; go version ;;
      *) cat "$here/$1/go.mod" "$here/$1/go.sum"; go version ;;
    esac; } | sha256sum | cut -c1-64
}

declare -A MOD=([coredns]=github.com/coredns/coredns [metrics-server]=sigs.k8s.io/metrics-server
                [traefik]=github.com/traefik/traefik/v3 [kube-router]=github.com/cloudnativelabs/kube-router/v2)

build_go() { # name tmpdir
  local ver ldf="-s -w"
  ver=$(cd "$here/$1" && go list -m -f '{{.Version}}' "${MOD[$1]}")
  case "$1" in
    # the version these programs report, as their own Makefiles set it (CoreDNS has it in code)
    metrics-server) ldf+=" -X k8s.io/client-go/pkg/version.gitVersion=$ver" ;;
    traefik) ldf+=" -X github.com/traefik/traefik/v3/pkg/version.Version=$ver" ;;
    kube-router) ldf+=" -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$ver" ;;
  esac
  (cd "$here/$1" && CGO_ENABLED=0 $N go build -trimpath -ldflags "$ldf" -o "$2/$1" "${PKG[$1]}")
}

build_pause() { # tmpdir
  local src; src=$(pause_src)
  $N gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-blackfriday" -o "$1/pause" "$src"
  pack_image "$1" pause "node.local/pause:$PAUSE_TAG" 65535:65535
}

# A one-layer OCI image holding /<name> as its entrypoint, written as the OCI archive
# <tmpdir>/<name>.tar that `ctr images import` loads (no registry serves these images here).
pack_image() { # tmpdir name ref user
  local layout=$1/layout bundle=$1/bundle tag=${3##*:}
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
  install -m 0755 "$1/$2" "$bundle/rootfs/$2"
  umoci repack --image "$layout:$tag" "$bundle" >/dev/null
  umoci config --image "$layout:$tag" --config.entrypoint "/$2" --config.user "$4" \
    --os linux --architecture "$(go env GOARCH)"
  umoci gc --layout "$layout"
  skopeo copy -q "oci:$layout:$tag" "oci-archive:$1/$2.tar:$3"
  rm -rf "$layout" "$bundle"
}

[ $# -gt 0 ] || set -- pause coredns metrics-server traefik kube-router probe
for name in "$@"; do
  case "$name" in pause|coredns|metrics-server|traefik|kube-router|probe) ;; *) echo "node build: unknown $name" >&2; exit 2 ;; esac
  stamp=$bin/.stamp-$name
  want=$(inputs_of "$name")
  if [ "${NODE_FORCE:-0}" != 1 ] && [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "node build: $name current" >&2
    continue
  fi
  rm -f "$stamp"
  echo "node build: building $name into $bin ..." >&2
  t0=$(date +%s)
  tmp=$(mktemp -d "$bin/.build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  if [ "$name" = pause ]; then
    build_pause "$tmp"
    mv -f "$tmp/pause.tar" "$bin/pause.tar"
  elif [ "$name" = probe ]; then
    (cd "$here/probe" && CGO_ENABLED=0 $N go build -trimpath -ldflags "-s -w" -o "$tmp/probe" .)
    pack_image "$tmp" probe "$PROBE_IMAGE" 65532:65532
    mv -f "$tmp/probe.tar" "$bin/probe.tar"
  else
    build_go "$name" "$tmp"
  fi
  if [ "$name" = coredns ]; then
    # cluster DNS runs as a pod (kube-system, k8s-app: kube-dns), where NetworkPolicies can name it
    pack_image "$tmp" coredns "$COREDNS_IMAGE" 0:0
    mv -f "$tmp/coredns.tar" "$bin/coredns.tar"
  fi
  mv -f "$tmp/$name" "$bin/$name"
  rm -rf "$tmp"; trap - EXIT
  echo "$want" > "$stamp"
  echo "node build: $name built in $(( $(date +%s) - t0 )) s" >&2
done
echo "PAUSE_IMAGE=node.local/pause:$PAUSE_TAG"
echo "COREDNS_IMAGE=$COREDNS_IMAGE"
echo "PROBE_IMAGE=$PROBE_IMAGE"
