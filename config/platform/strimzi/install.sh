#!/usr/bin/env bash
# Strimzi 1.2.0: the cluster operator in namespace strimzi-system, watching every namespace
# (the pipeline puts Kafka in its own `kafka` namespace). API kafka.strimzi.io/v1 only; KRaft and
# node pools are always on in 1.x.
set -euo pipefail
VERSION=${STRIMZI_VERSION:-1.2.0}
kubectl create namespace strimzi-system --dry-run=client -o yaml | kubectl apply -f -
helm upgrade --install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version "$VERSION" \
  --namespace strimzi-system \
  --set watchAnyNamespace=true \
  ${REGISTRY:+--set defaultImageRegistry=$REGISTRY --set defaultImageRepository=strimzi}
kubectl -n strimzi-system rollout status deploy/strimzi-cluster-operator --timeout=5m
kubectl wait crd/kafkas.kafka.strimzi.io crd/kafkanodepools.kafka.strimzi.io crd/kafkatopics.kafka.strimzi.io \
  --for condition=Established --timeout=2m
