#!/usr/bin/env bash
# Build and push every image the pipeline pulls: <ZOT>/<REPO>/<component>:<TAG> for rust-api,
# grpc-client, grpc-server, consumer, blackfriday-operator, and the Valkey VM containerDisk
# (valkey-vm: Debian 12 with valkey-server 8 from backports, cloud-init and GRUB, built from Debian
# packages by scripts/vm-image; needs a Debian host with root, see docs/valkey-vm.md).
# Usage: ZOT=zot.example.internal:5000 TAG=0.1.0 ./push-images.sh   (after docker/podman login)
set -euo pipefail
: "${ZOT:?host:port of the Zot VM}"
REPO=${REPO:-blackfriday}
TAG=${TAG:-0.1.0}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
ENGINE=${ENGINE:-docker}
build() { # build COMPONENT CONTEXT DOCKERFILE [extra build args...]
  local ref="$ZOT/$REPO/$1:$TAG" context="$2" dockerfile="$3"
  shift 3
  "$ENGINE" build -t "$ref" -f "$dockerfile" "$@" "$context"
  "$ENGINE" push "$ref"
}
build rust-api "$ROOT" "$ROOT/rust-api/Dockerfile"
# The Go programs: one Dockerfile each, built with the Go module (go-services/) as context.
for program in grpc-client grpc-server consumer; do
  build "$program" "$ROOT/go-services" "$ROOT/go-services/cmd/$program/Dockerfile"
done
build blackfriday-operator "$ROOT" "$ROOT/operator/Dockerfile"
# containerDisk: built here from Debian packages (mmdebstrap, mkfs.ext4 -d, GRUB), pushed with skopeo
# (after `skopeo login $ZOT`); Valkey is in the image, so the VMs need no internet at first boot.
"$ROOT/scripts/vm-image" --registry "$ZOT" --repository "$REPO" --tag "$TAG"
