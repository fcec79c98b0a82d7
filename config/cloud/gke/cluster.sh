#!/usr/bin/env bash
# GKE Standard cluster for the pipeline. KubeVirt needs nested virtualization: Standard only (not
# Autopilot), Intel N2 machines, node image UBUNTU_CONTAINERD or COS_CONTAINERD, and an org policy
# that allows nested virtualization. metrics-server is built in.
# Usage: PROJECT=my-project REGION=us-central1 ZOT_IP=10.0.1.2 ./cluster.sh
set -euo pipefail
: "${PROJECT:?}" "${REGION:=us-central1}"
CLUSTER=${CLUSTER:-blackfriday}
gcloud config set project "$PROJECT"
gcloud container clusters create "$CLUSTER" --region "$REGION" --num-nodes 1 \
  --machine-type e2-standard-4 --release-channel regular --enable-ip-alias
# KubeVirt nodes (Valkey VMs).
gcloud container node-pools create kubevirt --cluster "$CLUSTER" --region "$REGION" \
  --machine-type n2-standard-4 --num-nodes 1 --image-type UBUNTU_CONTAINERD \
  --enable-nested-virtualization
# Nodes reach the Zot VM on 5000 (same VPC).
if [ -n "${ZOT_IP:-}" ]; then
  gcloud compute firewall-rules create allow-zot-from-gke --network default \
    --allow tcp:5000 --source-ranges "$(gcloud container clusters describe "$CLUSTER" --region "$REGION" --format='value(clusterIpv4Cidr)')" \
    --destination-ranges "$ZOT_IP/32" || true
fi
gcloud container clusters get-credentials "$CLUSTER" --region "$REGION"
# A private CA for Zot: store it in Secret Manager and configure containerd
# (gcloud container node-pools update … --containerd-config-from-file=containerd.yaml), see
# "Access private registries with private CA certificates" in the GKE docs.
