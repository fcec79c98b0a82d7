# shellcheck shell=bash
# Shared by config/platform/*/install.sh: the cloud recipes' run/query/exists (so --dry-run
# prints every helm/kubectl command), the pinned versions and image list, and REGISTRY split into
# host and path. REGISTRY is where the add-on images come from: <zot host:port>/mirror (what
# config/cloud/zot/mirror-images.sh filled), or empty for the upstream registries.
PLATFORM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$PLATFORM_DIR/../cloud/lib.sh"
# shellcheck source=config/platform/versions.sh
. "$PLATFORM_DIR/versions.sh"
REGISTRY="${REGISTRY:-}"
REGISTRY_HOST="${REGISTRY%%/*}"                                  # zot.blackfriday.internal:5000
REGISTRY_PATH=""                                                  # mirror
if [ "$REGISTRY" != "$REGISTRY_HOST" ]; then REGISTRY_PATH="${REGISTRY#*/}"; fi
export REGISTRY REGISTRY_HOST REGISTRY_PATH
# Local files the installs render (values overlays, ConfigMaps); never secrets of the cloud.
PLATFORM_WORK="${PLATFORM_WORK:-${TMPDIR:-/tmp}/blackfriday-platform}"
mkdir -p "$PLATFORM_WORK"
image_repo() { # image_repo DEFAULT_REGISTRY PATH -> repository to give a chart
  if [ -n "$REGISTRY" ]; then printf '%s/%s' "$REGISTRY" "$2"; else printf '%s/%s' "$1" "$2"; fi
}
