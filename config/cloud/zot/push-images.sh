#!/usr/bin/env bash
# Build and push every image of the pipeline: <ZOT>/<REPO>/<component>:<TAG> for rust-api,
# grpc-client, grpc-server, consumer, blackfriday-operator, and the Valkey VM containerDisk
# (valkey-vm: Debian 12 with valkey-server 8, cloud-init and GRUB, built from Debian packages by
# scripts/vm-image on this machine: needs Debian/Ubuntu, root and scripts/setup.d/85-vms.sh; amd64).
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
# containerDisk: Valkey inside, so the VMs need no internet at first boot (docs/valkey-vm.md).
[ "$PLATFORM" = linux/amd64 ] || die "the valkey-vm containerDisk is built for amd64 only (scripts/vm-image)"
if [ "$DRY_RUN" = 1 ]; then
  echo "+ $ROOT/scripts/vm-image --print-qcow2   (build or reuse the cached image)"
  layout="<vm-image cache>/oci"
else
  layout="$(dirname "$("$ROOT/scripts/vm-image" --print-qcow2)")/oci"
fi
run skopeo copy --retry-times 3 --dest-cert-dir "$ZOT_CERT_DIR" --dest-authfile "$ZOT_AUTH" \
  "oci:$layout:build" "docker://$ZOT/$REPO/valkey-vm:$TAG"
