# shellcheck shell=bash
# The one list of platform versions and of every image the platform pulls (source it).
# config/cloud/zot/mirror-images.sh copies each MIRROR_IMAGES entry to <zot>/mirror/<path>, the
# install scripts point every chart's image at $REGISTRY (= <zot>/mirror), and
# tests/cloud/test_platform_images.py checks that every image our values/installs name is here.
# Zot serves mirror/** to anonymous readers (config/cloud/zot/config.json): these are public
# upstream images, so the add-on charts need no pull secret; our own images (blackfriday/**) need one.
# shellcheck disable=SC2034  # read by the scripts that source this file
STRIMZI_VERSION=1.2.0
KAFKA_VERSION=4.3.1
KUBEVIRT_VERSION=v1.9.0
CDI_VERSION=v1.66.0
NGINX_INGRESS_VERSION=5.5.4          # F5 NGINX Ingress Controller (class nginx), the default
NGINX_INGRESS_CHART_VERSION=2.6.4    # chart 2.6.x ships controller 5.5.x
INGRESS_NGINX_CHART_VERSION=4.15.1   # optional, retired upstream (last release 2026-03-19)
INGRESS_NGINX_VERSION=v1.15.1
GRAFANA_CHART_VERSION=12.11.1
GRAFANA_VERSION=13.2.0
K8S_SIDECAR_VERSION=2.10.1
BUSYBOX_VERSION=1.37.0
ORAS_VERSION=v1.3.0
METRICS_SERVER_CHART_VERSION=3.13.0
METRICS_SERVER_VERSION=v0.8.0
REDIS_DATASOURCE_VERSION=2.2.0
# The Grafana plugin as an OCI artifact in Zot (pushed by mirror-images.sh with oras).
REDIS_DATASOURCE_ARTIFACT="mirror/grafana-plugins/redis-datasource:$REDIS_DATASOURCE_VERSION"

KUBEVIRT_COMPONENTS="virt-operator virt-api virt-controller virt-handler virt-launcher virt-exportproxy virt-exportserver"
CDI_COMPONENTS="cdi-operator cdi-controller cdi-apiserver cdi-uploadproxy cdi-importer cdi-cloner cdi-uploadserver"

MIRROR_IMAGES=(
  "quay.io/strimzi/operator:$STRIMZI_VERSION"
  "quay.io/strimzi/kafka:$STRIMZI_VERSION-kafka-$KAFKA_VERSION"
  "docker.io/nginx/nginx-ingress:$NGINX_INGRESS_VERSION"
  "registry.k8s.io/ingress-nginx/controller:$INGRESS_NGINX_VERSION"
  "registry.k8s.io/metrics-server/metrics-server:$METRICS_SERVER_VERSION"
  "docker.io/grafana/grafana:$GRAFANA_VERSION"
  "quay.io/kiwigrid/k8s-sidecar:$K8S_SIDECAR_VERSION"
  "docker.io/library/busybox:$BUSYBOX_VERSION"
  "ghcr.io/oras-project/oras:$ORAS_VERSION"
)
for _c in $KUBEVIRT_COMPONENTS; do MIRROR_IMAGES+=("quay.io/kubevirt/$_c:$KUBEVIRT_VERSION"); done
for _c in $CDI_COMPONENTS; do MIRROR_IMAGES+=("quay.io/kubevirt/$_c:$CDI_VERSION"); done
unset _c

# <registry>/<path> -> <path> (the mirror keeps the upstream path: quay.io/strimzi/kafka -> mirror/strimzi/kafka)
mirror_path() { printf '%s' "${1#*/}"; }
