#!/usr/bin/env bash
# Generates the Go code for proto/blackfriday.proto into go-services/proto/ (committed).
#   scripts/gen-proto.sh          regenerate in place
#   scripts/gen-proto.sh --check  regenerate into a temp dir and fail if the committed code differs
#   scripts/gen-proto.sh --tools  only install the pinned plugins (used by scripts/setup.d/20-go.sh)
# The plugin versions are pinned here and in scripts/setup.d/20-go.sh so that every machine
# produces byte-identical output; the protoc version is printed into the header, so it is pinned
# to Debian bookworm's protobuf-compiler (3.21.12).
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12      # same as google.golang.org/protobuf in go-services/go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
GO_MODULE=github.com/blackfriday-operator/go-services

root=$(cd "$(dirname "$0")/.." && pwd)
check=0 tools_only=0
case "${1:-}" in
  --check) check=1 ;;
  --tools) tools_only=1 ;;
  "") ;;
  *) echo "usage: $0 [--check|--tools]" >&2; exit 2 ;;
esac

bin="$root/.cache/go-proto-bin"
mkdir -p "$bin"
install_plugin() { # name module version
  local stamp="$bin/.$1-$3"
  if [ ! -x "$bin/$1" ] || [ ! -f "$stamp" ]; then
    GOBIN="$bin" GOFLAGS=-buildvcs=false go install "$2@$3"
    rm -f "$bin/.$1-"*; touch "$stamp"
  fi
}
install_plugin protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
install_plugin protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"
[ $tools_only = 1 ] && exit 0
command -v protoc >/dev/null || { echo "protoc missing: run scripts/setup.d/20-go.sh" >&2; exit 1; }

out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# go_package in the .proto is the brief's "./proto"; the M option maps it to this module's
# import path (package name stays "proto") and module= strips the prefix so files land in proto/.
PATH="$bin:$PATH" protoc -I "$root/proto" \
  --go_out="$out" --go_opt=module=$GO_MODULE \
  --go_opt=Mblackfriday.proto=$GO_MODULE/proto\;proto \
  --go-grpc_out="$out" --go-grpc_opt=module=$GO_MODULE \
  --go-grpc_opt=Mblackfriday.proto=$GO_MODULE/proto\;proto \
  "$root/proto/blackfriday.proto"

dest="$root/go-services/proto"
if [ $check = 1 ]; then
  if ! diff -ru "$dest" "$out/proto"; then
    echo "go-services/proto is stale: run scripts/gen-proto.sh and commit" >&2
    exit 1
  fi
  echo "go-services/proto is up to date"
else
  rm -rf "$dest"; mkdir -p "$dest"
  cp "$out"/proto/*.go "$dest/"
  echo "generated $(ls "$dest" | tr '\n' ' ')"
fi
