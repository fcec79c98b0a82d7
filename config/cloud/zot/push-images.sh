#!/usr/bin/env bash
# Build and push every image of the pipeline: <ZOT>/<REPO>/<component>:<TAG> for rust-api,
# grpc-client, grpc-server, consumer, blackfriday-operator, and the Valkey VM containerDisk
# (valkey-vm: the upstream Debian 13 containerdisk re-tagged).
# Built for the NODES' architecture, not the laptop's: PLATFORM=linux/amd64 (default; GKE N2/E2 and
# EKS m7i/c5 nodes) or linux/arm64 (Graviton/Tau T2A pools). `docker buildx build --platform` runs
# the build stages as that platform (QEMU emulation on an arm64 laptop: slow but right), and the Rust
# Dockerfiles get the matching musl target, so an arm64 laptop makes amd64 images. Each image is
# written as an OCI archive and pushed with skopeo, so the laptop's Docker daemon never needs to
# trust Zot's private CA.
#   ZOT=<host:port> ZOT_CERT_DIR=<dir with ca.crt> ZOT_AUTH=<auth file of ci> TAG=0.1.0 \
#   ./push-images.sh [--dry-run]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$here/../lib.sh"
parse_common_flags "$0" "$@"
: "${ZOT:?host:port of Zot as reached from this machine}" "${ZOT_CERT_DIR:?directory holding the ca.crt of Zot}" "${ZOT_AUTH:?auth file of the ci user}"
REPO=${REPO:-blackfriday}
TAG=${TAG:-0.1.0}
PLATFORM=${PLATFORM:-linux/amd64}
case "$PLATFORM" in
  linux/amd64) rust_target=x86_64-unknown-linux-musl ;;
  linux/arm64) rust_target=aarch64-unknown-linux-musl ;;
  *) die "PLATFORM must be linux/amd64 or linux/arm64 (one per run; the Rust Dockerfiles take one musl target), got '$PLATFORM'" ;;
esac
ROOT="$CLOUD_ROOT"
need docker skopeo
out="${TMPDIR:-/tmp}/blackfriday-images"
run mkdir -p "$out"

build() { # build COMPONENT CONTEXT DOCKERFILE [extra build args...]
  local component="$1" context="$2" dockerfile="$3"
  shift 3
  run docker buildx build --platform "$PLATFORM" "$@" -f "$dockerfile" \
    --output "type=oci,dest=$out/$component.tar" "$context"
  run skopeo copy --retry-times 3 --dest-cert-dir "$ZOT_CERT_DIR" --dest-authfile "$ZOT_AUTH" \
    "oci-archive:$out/$component.tar" "docker://$ZOT/$REPO/$component:$TAG"
}
build rust-api "$ROOT" "$ROOT/rust-api/Dockerfile" --build-arg "RUST_TARGET=$rust_target"
for program in grpc-client grpc-server consumer; do
  build "$program" "$ROOT/go-services" "$ROOT/go-services/cmd/$program/Dockerfile"
done
build blackfriday-operator "$ROOT" "$ROOT/operator/Dockerfile" --build-arg "RUST_TARGET=$rust_target"
# containerDisk: the upstream Debian 13 disk for the nodes' architecture, kept OCI.
run skopeo --override-os linux --override-arch "${PLATFORM#linux/}" copy --retry-times 3 \
  --dest-cert-dir "$ZOT_CERT_DIR" --dest-authfile "$ZOT_AUTH" \
  docker://quay.io/containerdisks/debian:13 "docker://$ZOT/$REPO/valkey-vm:$TAG"
