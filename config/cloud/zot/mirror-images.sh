#!/usr/bin/env bash
# Mirror the platform add-ons' images into Zot so the cluster pulls everything from there
# (then run config/platform/* with REGISTRY=$ZOT). Usage: ZOT=host:port ./mirror-images.sh
set -euo pipefail
: "${ZOT:?host:port of the Zot VM}"
for image in \
  quay.io/strimzi/operator:1.2.0 \
  quay.io/strimzi/kafka:1.2.0-kafka-4.3.1 \
  registry.k8s.io/ingress-nginx/controller:v1.15.1 \
  registry.k8s.io/metrics-server/metrics-server:v0.8.0 \
  docker.io/grafana/grafana:13.2.0 \
  quay.io/kiwigrid/k8s-sidecar:2.10.1; do
  target="$ZOT/${image#*/}"
  echo "$image -> $target"
  skopeo copy --all "docker://$image" "docker://$target"
done
