#!/usr/bin/env bash
# Build and push every image the pipeline pulls: <ZOT>/<REPO>/<component>:<TAG> for rust-api,
# grpc-client, grpc-server, consumer, blackfriday-operator, and the Valkey VM containerDisk
# (valkey-vm: a Debian 13 cloud disk; cloud-init installs valkey-server 8.x on first boot).
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
# containerDisk: the upstream Debian containerdisk re-tagged into Zot (skopeo keeps it OCI).
skopeo copy --all docker://quay.io/containerdisks/debian:13 "docker://$ZOT/$REPO/valkey-vm:$TAG"
