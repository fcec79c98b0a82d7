#!/usr/bin/env bash
# The cluster's pull Secret (spec.registry.pullSecret of the sample: blackfriday-system/zot-pull).
# The operator copies it into every namespace that pulls from Zot.
# Usage: ZOT=zot.example.internal:5000 ZOT_USER=cluster ZOT_PASSWORD=... ./pull-secret.sh
set -euo pipefail
: "${ZOT:?host:port of the Zot VM}" "${ZOT_USER:?}" "${ZOT_PASSWORD:?}"
kubectl create namespace blackfriday-system --dry-run=client -o yaml | kubectl apply -f -
kubectl -n blackfriday-system create secret docker-registry zot-pull \
  --docker-server="$ZOT" --docker-username="$ZOT_USER" --docker-password="$ZOT_PASSWORD" \
  --dry-run=client -o yaml | kubectl apply -f -
