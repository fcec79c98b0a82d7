#!/usr/bin/env bash
# Suite: the program images without Docker (docs/images.md).
#   pytest tests/images: scripts/images builds the five OCI images (rust-api, blackfriday-operator,
#   grpc-client, grpc-server, consumer) with umoci from locally built binaries and pushes them to
#   the bench registry (OCI_REGISTRY, the stand-in for Zot); each is pulled back by tag with skopeo,
#   its manifest/config checked, unpacked with umoci and its entrypoint run in the rootfs (chroot).
# Reuses the release binaries 60-e2e/main-job built (cargo/go only rebuild what changed).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
out="${BF_TEST_OUT:-out/test}"
mkdir -p "$out"
# shellcheck disable=SC1091
if [ -z "${OCI_REGISTRY:-}" ] && [ -f .testbed/env ]; then set -a; . .testbed/env; set +a; fi
[ -n "${OCI_REGISTRY:-}" ] || { echo "70-images: OCI_REGISTRY not set (bash scripts/testbed/registry.sh start)"; exit 1; }
if ! command -v umoci >/dev/null || ! command -v skopeo >/dev/null; then bash scripts/setup.d/70-images.sh; fi
exec python3 -m pytest tests/images -v -rA -p no:cacheprovider --junitxml="$out/70-images.xml" "$@"
