#!/usr/bin/env bash
# The cluster's pull Secret for our own images (spec.registry.pullSecret of the sample:
# blackfriday-system/zot-pull; the operator copies it into every namespace it pulls in, the Helm
# chart of the operator references it). The add-on images need none: Zot serves mirror/** to
# anonymous readers. The password never appears on a command line (auth file -> --from-file).
#   ZOT=zot.blackfriday.internal:5000 ZOT_AUTH=<auth file of user cluster for that name> ./pull-secret.sh [--dry-run]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$here/../lib.sh"
parse_common_flags "$0" "$@"
: "${ZOT:?host:port the nodes pull from}" "${ZOT_AUTH:?auth file of the cluster user}"
NAMESPACE=${NAMESPACE:-blackfriday-system}
if ! exists kubectl get namespace "$NAMESPACE"; then
  run kubectl create namespace "$NAMESPACE"
fi
secret_file="$(dirname "$ZOT_AUTH")/zot-pull.secret.yaml"
run_to "$secret_file" kubectl -n "$NAMESPACE" create secret generic zot-pull \
  --type kubernetes.io/dockerconfigjson --from-file ".dockerconfigjson=$ZOT_AUTH" --dry-run=client -o yaml
run kubectl apply -f "$secret_file"
