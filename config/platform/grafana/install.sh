#!/usr/bin/env bash
# Grafana 13.2 (chart 12.11.1, grafana-community) in namespace `grafana` (spec.grafana.namespace).
# Every image from $REGISTRY (mirror) when set: grafana, k8s-sidecar, the busybox of initChownData.
# The Redis datasource plugin comes from Zot as an OCI artifact ($REDIS_DATASOURCE_ARTIFACT): an
# oras init container pulls it (anonymous read on mirror/**, TLS checked against Zot's CA from
# ConfigMap zot-ca, made from ZOT_CA_FILE) and a busybox one unzips it into the plugins folder on
# the Grafana PVC. Without REGISTRY the plugin is installed the chart's way (from grafana.com).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/platform/lib.sh
. "$here/../lib.sh"
overlay="$PLATFORM_WORK/grafana-registry-values.yaml"
if [ -n "$REGISTRY" ]; then
  : "${ZOT_CA_FILE:?the CA file of Zot (the plugin init container checks the TLS of Zot with it)}"
  cat > "$overlay" <<YAML
# rendered by config/platform/grafana/install.sh for REGISTRY=$REGISTRY
image:
  registry: $REGISTRY_HOST
  repository: ${REGISTRY_PATH:+$REGISTRY_PATH/}grafana/grafana
  tag: "$GRAFANA_VERSION"
sidecar:
  image:
    registry: $REGISTRY_HOST
    repository: ${REGISTRY_PATH:+$REGISTRY_PATH/}kiwigrid/k8s-sidecar
    tag: "$K8S_SIDECAR_VERSION"
initChownData:
  image:
    registry: $REGISTRY_HOST
    repository: ${REGISTRY_PATH:+$REGISTRY_PATH/}library/busybox
    tag: "$BUSYBOX_VERSION"
extraInitContainers:
  - name: redis-datasource-pull
    image: $REGISTRY/oras-project/oras:$ORAS_VERSION
    args: [pull, --ca-file, /zot-ca/ca.crt, -o, /var/lib/grafana/plugins/.redis-datasource,
           "$REGISTRY_HOST/$REDIS_DATASOURCE_ARTIFACT"]
    securityContext: {runAsUser: 472, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    volumeMounts:
      - {name: storage, mountPath: /var/lib/grafana}
      - {name: zot-ca, mountPath: /zot-ca, readOnly: true}
  - name: redis-datasource-unzip
    image: $REGISTRY/library/busybox:$BUSYBOX_VERSION
    command: [sh, -c, 'set -e; cd /var/lib/grafana/plugins; rm -rf redis-datasource; unzip -q .redis-datasource/*.zip; rm -rf .redis-datasource; test -f redis-datasource/plugin.json']
    securityContext: {runAsUser: 472, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    volumeMounts:
      - {name: storage, mountPath: /var/lib/grafana}
extraContainerVolumes:
  - name: zot-ca
    configMap: {name: zot-ca}
YAML
  if ! exists kubectl get namespace grafana; then run kubectl create namespace grafana; fi
  run_to "$PLATFORM_WORK/zot-ca.configmap.yaml" kubectl -n grafana create configmap zot-ca \
    --from-file "ca.crt=$ZOT_CA_FILE" --dry-run=client -o yaml
  run kubectl apply -f "$PLATFORM_WORK/zot-ca.configmap.yaml"
else
  cat > "$overlay" <<YAML
# rendered by config/platform/grafana/install.sh: no REGISTRY, the plugin comes from grafana.com
image:
  tag: "$GRAFANA_VERSION"
plugins: [redis-datasource]
YAML
fi
# The admin password: a random one in the Secret the chart reads (admin.existingSecret), made once
# and kept across upgrades (a second install must not lock the admin out).
if ! exists kubectl get namespace grafana; then run kubectl create namespace grafana; fi
# The password goes through a 0600 file, so `run` (which prints its command) never shows it.
if ! exists kubectl -n grafana get secret grafana-admin; then
  password_file="$PLATFORM_WORK/grafana-admin-password"
  (umask 077; openssl rand -hex 16 | tr -d '\n' > "$password_file")
  run kubectl -n grafana create secret generic grafana-admin --from-literal=admin-user=admin \
    --from-file=admin-password="$password_file"
  rm -f "$password_file"
fi
run helm upgrade --install grafana oci://ghcr.io/grafana-community/helm-charts/grafana --version "$GRAFANA_CHART_VERSION" \
  --namespace grafana --create-namespace -f "$here/values.yaml" -f "$overlay"
run kubectl -n grafana rollout status deploy/grafana --timeout=10m
