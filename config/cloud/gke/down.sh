#!/usr/bin/env bash
# Tear down everything config/cloud/gke/up.sh made, in reverse order (idempotent: what is already
# gone is skipped). Cloud resources made by Kubernetes itself (the ingress load balancer, the
# persistent disks of Kafka, Valkey and Grafana) are released first by deleting the pipeline, the
# platform releases and the PVCs while the cluster still runs; deleting the cluster alone would
# leave them behind (and billed).
#   PROJECT=my-project config/cloud/gke/down.sh [--dry-run] [--keep-state]
# Same env as up.sh (PROJECT, REGION, ZONE, NAME, ZOT_NAME). --keep-state keeps the local CA,
# passwords and rendered files (~/.blackfriday-cloud/gke-<project>-<name>).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$here/../lib.sh"
# shellcheck source=config/cloud/teardown.sh
. "$here/../teardown.sh"
parse_common_flags "$0" "$@"
refuse_unknown_args --keep-state
keep_state=$(switch_given --keep-state)
DRY_RUN_ASSUME=present
# shellcheck source=config/cloud/gke/settings.sh
. "$here/settings.sh"
need gcloud kubectl helm

step "what Kubernetes made in the cloud: load balancer, disks"
if gc_exists container clusters describe "$NAME" --zone "$ZONE"; then
  gc container clusters get-credentials "$NAME" --zone "$ZONE"
  release_cluster_cloud_resources
  gc container clusters delete "$NAME" --zone "$ZONE" --quiet
fi

step "Zot VM, DNS, addresses"
if gc_exists compute instances describe "$NAME-zot" --zone "$ZONE"; then
  gc compute instances delete "$NAME-zot" --zone "$ZONE" --quiet
fi
if gc_exists dns record-sets describe "$ZOT_NAME." --type A --zone "$NAME-internal"; then
  gc dns record-sets delete "$ZOT_NAME." --type A --zone "$NAME-internal"
fi
if gc_exists dns managed-zones describe "$NAME-internal"; then
  gc dns managed-zones delete "$NAME-internal"
fi
for address in "$NAME-zot-internal" "$NAME-zot-external"; do
  if gc_exists compute addresses describe "$address" --region "$REGION"; then
    gc compute addresses delete "$address" --region "$REGION" --quiet
  fi
done

step "firewall and network"
for rule in "$NAME-zot-from-nodes" "$NAME-zot-from-laptop"; do
  if gc_exists compute firewall-rules describe "$rule"; then
    gc compute firewall-rules delete "$rule" --quiet
  fi
done
if gc_exists compute networks describe "$NAME"; then
  gc compute networks delete "$NAME" --quiet
fi
forget_state "$keep_state"
echo "GKE teardown done. Check nothing is left: gcloud --project $PROJECT compute disks list; gcloud --project $PROJECT compute forwarding-rules list"
