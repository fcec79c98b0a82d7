#!/usr/bin/env bash
# Strimzi 1.2.0: the cluster operator in namespace strimzi-system, watching every namespace (the
# pipeline puts Kafka in its own `kafka` namespace). API kafka.strimzi.io/v1 only; KRaft and node
# pools are always on in 1.x. Images from $REGISTRY (mirror) when set: the chart composes
# <defaultImageRegistry>/<defaultImageRepository>/<name>:<tag> for the operator and Kafka.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/platform/lib.sh
. "$here/../lib.sh"
image_args=()
if [ -n "$REGISTRY" ]; then
  image_args=(--set "defaultImageRegistry=$REGISTRY_HOST" --set "defaultImageRepository=${REGISTRY_PATH:+$REGISTRY_PATH/}strimzi")
fi
run helm upgrade --install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version "$STRIMZI_VERSION" \
  --namespace strimzi-system --create-namespace --set watchAnyNamespace=true "${image_args[@]}"
run kubectl -n strimzi-system rollout status deploy/strimzi-cluster-operator --timeout=5m
run kubectl wait crd/kafkas.kafka.strimzi.io crd/kafkanodepools.kafka.strimzi.io crd/kafkatopics.kafka.strimzi.io \
  --for condition=Established --timeout=2m
