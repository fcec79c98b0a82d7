#!/usr/bin/env bash
# Copy every image the platform needs (config/platform/versions.sh MIRROR_IMAGES: Strimzi,
# KubeVirt (+CDI), F5 NGINX Ingress Controller, ingress-nginx (option), metrics-server, Grafana,
# its k8s-sidecar and busybox init, oras) into Zot under mirror/<upstream path>, and the Grafana
# Redis datasource plugin as an OCI artifact (mirror/grafana-plugins/redis-datasource:<version>),
# so the cluster pulls nothing from the internet (except the busybox of the node-trust DaemonSet).
# Runs on the laptop (it downloads from the public registries and grafana.com).
#   ZOT=<host:port Zot answers on from here> ZOT_CERT_DIR=<dir with Zot's ca.crt> \
#   ZOT_AUTH=<auth file of user ci> ./mirror-images.sh [--dry-run]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$here/../lib.sh"
# shellcheck source=config/platform/versions.sh
. "$here/../../platform/versions.sh"
parse_common_flags "$0" "$@"
: "${ZOT:?host:port of Zot as reached from this machine}" "${ZOT_CERT_DIR:?directory holding the ca.crt of Zot}" "${ZOT_AUTH:?auth file (docker config.json) of the ci user}"
need skopeo oras curl

for image in "${MIRROR_IMAGES[@]}"; do
  target="$ZOT/mirror/$(mirror_path "$image")"
  # --all keeps every architecture of multi-arch images (amd64 nodes today, arm64 tomorrow)
  run skopeo copy --all --retry-times 3 --dest-cert-dir "$ZOT_CERT_DIR" --dest-authfile "$ZOT_AUTH" \
    "docker://$image" "docker://$target"
done

# The Grafana plugin: a zip from grafana.com, stored as an OCI artifact; Grafana's init container
# pulls it with oras (config/platform/grafana/values.yaml) instead of reaching the internet.
plugin_dir="${TMPDIR:-/tmp}/blackfriday-plugin"
zip="redis-datasource-$REDIS_DATASOURCE_VERSION.linux_amd64.zip"
run mkdir -p "$plugin_dir"
run curl -fsSL --retry 3 -o "$plugin_dir/$zip" \
  "https://grafana.com/api/plugins/redis-datasource/versions/$REDIS_DATASOURCE_VERSION/download?os=linux&arch=amd64"
# oras names the layer after the file path it is given: push from inside the folder
run oras push --registry-config "$ZOT_AUTH" --ca-file "$ZOT_CERT_DIR/ca.crt" \
  --artifact-type application/vnd.grafana.plugin.v1+zip \
  "$ZOT/$REDIS_DATASOURCE_ARTIFACT" "$plugin_dir/$zip:application/zip" --disable-path-validation
echo "mirrored ${#MIRROR_IMAGES[@]} images and the redis-datasource plugin into $ZOT/mirror/"
