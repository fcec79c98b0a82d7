#!/usr/bin/env bash
# EKS cluster from cluster.yaml, with ZOT_HOST_PORT filled in. Usage: ZOT=10.0.1.2:5000 ./cluster.sh
set -euo pipefail
: "${ZOT:?host:port of the Zot VM (reachable from the node security group)}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sed "s/ZOT_HOST_PORT/$ZOT/g" "$here/cluster.yaml" > /tmp/blackfriday-eks.yaml
eksctl create cluster -f /tmp/blackfriday-eks.yaml
kubectl get nodes -L kubevirt.io/schedulable
