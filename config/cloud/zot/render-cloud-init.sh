#!/usr/bin/env bash
# Render cloud-init.yaml into the VM's user-data: config.json, htpasswd and the TLS pair go into
# write_files (base64), the zot version is pinned.
#   render-cloud-init.sh --htpasswd FILE --tls-dir DIR --out FILE [--config config.json] [--zot-version vX]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$here/config.json" htpasswd="" tls="" out="" version="${ZOT_VERSION:-v2.1.20}"
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --htpasswd) htpasswd="$2"; shift 2 ;;
    --tls-dir) tls="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --zot-version) version="$2"; shift 2 ;;
    *) echo "render-cloud-init.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for f in "$config" "$htpasswd" "$tls/server.crt" "$tls/server.key"; do
  [ -s "$f" ] || { echo "render-cloud-init.sh: missing input file '$f'" >&2; exit 2; }
done
[ -n "$out" ] || { echo "render-cloud-init.sh: --out FILE is required" >&2; exit 2; }
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "render-cloud-init.sh: --zot-version '$version' is not vX.Y.Z" >&2; exit 2; }
b64() { base64 -w0 < "$1"; }
umask 077
# base64 never contains '|', so it is a safe sed delimiter
sed -e "s|@ZOT_CONFIG_B64@|$(b64 "$config")|" \
    -e "s|@ZOT_HTPASSWD_B64@|$(b64 "$htpasswd")|" \
    -e "s|@ZOT_TLS_CERT_B64@|$(b64 "$tls/server.crt")|" \
    -e "s|@ZOT_TLS_KEY_B64@|$(b64 "$tls/server.key")|" \
    -e "s|@ZOT_VERSION@|$version|" \
    "$here/cloud-init.yaml" > "$out"
if grep -q '@[A-Z_0-9]*@' "$out"; then
  echo "render-cloud-init.sh: unfilled placeholder in $out" >&2; exit 1
fi
echo "render-cloud-init.sh: wrote $out"
