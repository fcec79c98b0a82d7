#!/usr/bin/env bash
# GKE, from nothing to a running pipeline (idempotent: every resource is looked up before it is
# made, so a second run after a failure continues where the first stopped). docs/deploy-gke.md.
#
#   PROJECT=my-project config/cloud/gke/up.sh [--dry-run]
#
# --dry-run prints every gcloud/kubectl/helm/skopeo/oras/docker command a real run would execute,
# in order, and runs none of them (nor needs the tools or credentials).
# Env (defaults): PROJECT (required), REGION (us-central1), ZONE (us-central1-a), NAME (blackfriday:
# network, cluster, VM and rule names), ZOT_NAME (zot.blackfriday.internal), ZOT_PORT (5000), TAG
# (0.1.0), LAPTOP_CIDR (this machine's public IP/32), GENERAL_MACHINE (e2-standard-4) x
# GENERAL_NODES (2), KUBEVIRT_MACHINE (n2-standard-4: Intel, nested virtualization) x KUBEVIRT_NODES
# (1), ZOT_MACHINE (e2-small), INGRESS (nginx | ingress-nginx), BF_CLOUD_STATE (~/.blackfriday-cloud).
# What it makes: an auto-mode VPC (GCP assigns the subnets), firewall rules (Zot from the node tag
# and the laptop only), a Cloud DNS private zone blackfriday.internal with zot's A record, static
# internal+external addresses, the Zot VM (Ubuntu 24.04 + cloud-init), a zonal Standard cluster
# (--num-nodes is per zone: a zonal cluster gets exactly that many) with a nested-virtualization N2
# pool, node trust for Zot on every node, the platform, the images, the operator, the pipeline.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$here/../lib.sh"
# shellcheck source=config/cloud/common.sh
. "$here/../common.sh"
parse_common_flags "$0" "$@"
[ ${#EXTRA_ARGS[@]} -eq 0 ] || die "unknown argument: ${EXTRA_ARGS[0]} (see --help)"
DRY_RUN_ASSUME=absent
# shellcheck source=config/cloud/gke/settings.sh
. "$here/settings.sh"
ZOT_PORT=${ZOT_PORT:-5000}
TAG=${TAG:-0.1.0}
GENERAL_MACHINE=${GENERAL_MACHINE:-e2-standard-4}
GENERAL_NODES=${GENERAL_NODES:-2}
KUBEVIRT_MACHINE=${KUBEVIRT_MACHINE:-n2-standard-4}
KUBEVIRT_NODES=${KUBEVIRT_NODES:-1}
ZOT_MACHINE=${ZOT_MACHINE:-e2-small}
CLOUD=gke
export INGRESS="${INGRESS:-nginx}"
DNS_ZONE="${ZOT_NAME#*.}"                     # blackfriday.internal
need gcloud kubectl helm skopeo oras docker openssl htpasswd curl python3

step "APIs"
gc services enable compute.googleapis.com container.googleapis.com dns.googleapis.com

step "network and firewall"
if ! gc_exists compute networks describe "$NAME"; then
  # auto mode: one subnet per region, address ranges assigned by Google Cloud
  gc compute networks create "$NAME" --subnet-mode auto
fi
LAPTOP="$(laptop_cidr)"
if ! gc_exists compute firewall-rules describe "$NAME-zot-from-nodes"; then
  # image pulls come from the NODES (their primary IPs, tag $NAME-node), not from Pod IPs
  gc compute firewall-rules create "$NAME-zot-from-nodes" --network "$NAME" --direction INGRESS \
    --allow "tcp:$ZOT_PORT" --source-tags "$NAME-node" --target-tags "$NAME-zot"
fi
if ! gc_exists compute firewall-rules describe "$NAME-zot-from-laptop"; then
  # the laptop pushes images, charts and the catalogue, and may ssh in to debug
  gc compute firewall-rules create "$NAME-zot-from-laptop" --network "$NAME" --direction INGRESS \
    --allow "tcp:$ZOT_PORT,tcp:22" --source-ranges "$LAPTOP" --target-tags "$NAME-zot"
fi

step "Zot addresses and private DNS"
if ! gc_exists compute addresses describe "$NAME-zot-internal" --region "$REGION"; then
  gc compute addresses create "$NAME-zot-internal" --region "$REGION" --subnet "$NAME"
fi
if ! gc_exists compute addresses describe "$NAME-zot-external" --region "$REGION"; then
  gc compute addresses create "$NAME-zot-external" --region "$REGION"
fi
query ZOT_INTERNAL_IP ZOT_INTERNAL_IP gcloud --project "$PROJECT" compute addresses describe "$NAME-zot-internal" \
  --region "$REGION" --format 'value(address)'
query ZOT_PUBLIC_IP ZOT_PUBLIC_IP gcloud --project "$PROJECT" compute addresses describe "$NAME-zot-external" \
  --region "$REGION" --format 'value(address)'
if ! gc_exists dns managed-zones describe "$NAME-internal"; then
  gc dns managed-zones create "$NAME-internal" --dns-name "$DNS_ZONE." --visibility private \
    --networks "$NAME" --description "blackfriday: the name nodes pull Zot from"
fi
if ! gc_exists dns record-sets describe "$ZOT_NAME." --type A --zone "$NAME-internal"; then
  gc dns record-sets create "$ZOT_NAME." --type A --ttl 300 --zone "$NAME-internal" --rrdatas "$ZOT_INTERNAL_IP"
fi

step "Zot VM (TLS for $ZOT_NAME and $ZOT_PUBLIC_IP, htpasswd, cloud-init)"
zot_prepare_vm_files
if ! gc_exists compute instances describe "$NAME-zot" --zone "$ZONE"; then
  gc compute instances create "$NAME-zot" --zone "$ZONE" --machine-type "$ZOT_MACHINE" \
    --network-interface "subnet=$NAME,private-network-ip=$ZOT_INTERNAL_IP,address=$ZOT_PUBLIC_IP" \
    --image-family ubuntu-2404-lts-amd64 --image-project ubuntu-os-cloud \
    --boot-disk-size 50GB --boot-disk-type pd-balanced --tags "$NAME-zot" \
    --metadata-from-file "user-data=$STATE/zot-user-data.yaml"
fi
zot_wait_ready

step "cluster ($GENERAL_NODES x $GENERAL_MACHINE) and the KubeVirt pool ($KUBEVIRT_NODES x $KUBEVIRT_MACHINE, nested virtualization)"
if ! gc_exists container clusters describe "$NAME" --zone "$ZONE"; then
  gc container clusters create "$NAME" --zone "$ZONE" --network "$NAME" --subnetwork "$NAME" \
    --enable-ip-alias --release-channel regular --num-nodes "$GENERAL_NODES" \
    --machine-type "$GENERAL_MACHINE" --tags "$NAME-node"
fi
if ! gc_exists container node-pools describe kubevirt --cluster "$NAME" --zone "$ZONE"; then
  gc container node-pools create kubevirt --cluster "$NAME" --zone "$ZONE" \
    --machine-type "$KUBEVIRT_MACHINE" --num-nodes "$KUBEVIRT_NODES" --image-type UBUNTU_CONTAINERD \
    --enable-nested-virtualization --node-labels blackfriday.dev/kubevirt=true --tags "$NAME-node"
fi
gc container clusters get-credentials "$NAME" --zone "$ZONE"
run kubectl get nodes -L blackfriday.dev/kubevirt

step "node trust for Zot (containerd hosts.toml + CA on every node)"
node_trust_daemonset

deploy_on_cluster "F5 NGINX Ingress"
