#!/usr/bin/env bash
# Set-up for scripts/images and the 70-images suite (idempotent): umoci and skopeo from Debian
# (00-base.sh installs them too; this only fills the gap when it did not run), chroot/unshare
# come from coreutils/util-linux.
set -euo pipefail
need=()
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
command -v unshare >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "70-images: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
