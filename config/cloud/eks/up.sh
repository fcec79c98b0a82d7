#!/usr/bin/env bash
# EKS with everything inside AWS, from nothing to a running pipeline (idempotent: each resource
# is looked up before it is made). docs/deploy-aws.md.
#
#   REGION=us-east-1 config/cloud/eks/up.sh [--dry-run] [--managed-data]
#
# --dry-run        print every aws/eksctl/kubectl/helm/skopeo/oras/docker command in order, run none
# --managed-data   also create Amazon MSK (Kafka) and ElastiCache for Valkey in the cluster's VPC
#                  and point the pipeline at them (spec.kafka.mode/valkey.mode: external) instead
#                  of Strimzi Kafka and the KubeVirt Valkey VMs
# Env (defaults): REGION (us-east-1), NAME (blackfriday), K8S_VERSION (1.35), ZOT_NAME
# (zot.blackfriday.internal), ZOT_PORT (5000), TAG (0.1.0), LAPTOP_CIDR (this machine's public
# IP/32), GENERAL_INSTANCE (m7i.xlarge) x GENERAL_NODES (2), KUBEVIRT_INSTANCE (c5.metal: /dev/kvm)
# x KUBEVIRT_NODES (1), KUBEVIRT_EMULATION (false; true with a non-metal KUBEVIRT_INSTANCE),
# ZOT_INSTANCE (t3.small), KEY_NAME (an EC2 key pair for ssh to Zot; optional), BF_CLOUD_STATE.
# What it makes: the EKS cluster and its VPC (eksctl; AWS-assigned address ranges), the Zot EC2 VM
# in a public subnet of that VPC with an Elastic IP and a security group open on 5000 to the
# cluster's security group and the laptop only, a Route 53 private zone blackfriday.internal with
# zot's A record, node groups whose bootstrap trusts Zot, EBS as the default StorageClass, the
# platform (F5 NGINX Ingress behind an AWS Network Load Balancer), images, operator, pipeline.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$here/../lib.sh"
# shellcheck source=config/cloud/common.sh
. "$here/../common.sh"
# shellcheck source=config/cloud/eks/managed-data.sh
. "$here/managed-data.sh"
parse_common_flags "$0" "$@"
refuse_unknown_args --managed-data
managed_data=$(switch_given --managed-data)
DRY_RUN_ASSUME=absent
# shellcheck source=config/cloud/eks/settings.sh
. "$here/settings.sh"
export K8S_VERSION="${K8S_VERSION:-1.35}"
export GENERAL_INSTANCE="${GENERAL_INSTANCE:-m7i.xlarge}" GENERAL_NODES="${GENERAL_NODES:-2}"
export KUBEVIRT_INSTANCE="${KUBEVIRT_INSTANCE:-c5.metal}" KUBEVIRT_NODES="${KUBEVIRT_NODES:-1}"
export KUBEVIRT_EMULATION="${KUBEVIRT_EMULATION:-false}"
ZOT_PORT=${ZOT_PORT:-5000}
ZOT_INSTANCE=${ZOT_INSTANCE:-t3.small}
TAG=${TAG:-0.1.0}
CLOUD=eks
export INGRESS="${INGRESS:-nginx}"
need aws eksctl kubectl helm skopeo oras docker openssl htpasswd curl python3

step "Zot's CA and the cluster config"
# The CA first: node groups embed it. The server certificate is re-issued below once the Elastic IP
# is known (tls.sh keeps the CA).
run "$CLOUD_LIB_DIR/zot/tls.sh" --out "$STATE/tls" --dns "$ZOT_NAME"
run "$here/render-cluster.sh" --ca "$STATE/tls/ca.crt" --zot "$ZOT_NAME:$ZOT_PORT" --out "$STATE/cluster.yaml"

step "EKS control plane and VPC (eksctl)"
if ! exists eksctl get cluster --name "$NAME" --region "$REGION"; then
  run eksctl create cluster -f "$STATE/cluster.yaml" --without-nodegroup
fi
aws_q VPC_ID VPC_ID eks describe-cluster --name "$NAME" --query cluster.resourcesVpcConfig.vpcId
aws_q CLUSTER_SG CLUSTER_SG eks describe-cluster --name "$NAME" --query cluster.resourcesVpcConfig.clusterSecurityGroupId
aws_q PUBLIC_SUBNET PUBLIC_SUBNET ec2 describe-subnets \
  --filters "Name=vpc-id,Values=$VPC_ID" Name=map-public-ip-on-launch,Values=true --query 'Subnets[0].SubnetId'

step "Zot security group (5000 from the cluster's nodes and the laptop only)"
LAPTOP="$(laptop_cidr)"
aws_q ZOT_SG ZOT_SG ec2 describe-security-groups \
  --filters "Name=vpc-id,Values=$VPC_ID" "Name=group-name,Values=$NAME-zot" --query 'SecurityGroups[0].GroupId'
if ! found "$ZOT_SG"; then
  aws_q ZOT_SG ZOT_SG ec2 create-security-group --group-name "$NAME-zot" --vpc-id "$VPC_ID" \
    --description "blackfriday Zot: 5000 from EKS nodes and the laptop" --query GroupId
  # managed node groups use the cluster security group: that is where image pulls come from
  run_tolerant "rule exists" aws --region "$REGION" ec2 authorize-security-group-ingress --group-id "$ZOT_SG" \
    --protocol tcp --port "$ZOT_PORT" --source-group "$CLUSTER_SG"
  run_tolerant "rule exists" aws --region "$REGION" ec2 authorize-security-group-ingress --group-id "$ZOT_SG" \
    --protocol tcp --port "$ZOT_PORT" --cidr "$LAPTOP"
  run_tolerant "rule exists" aws --region "$REGION" ec2 authorize-security-group-ingress --group-id "$ZOT_SG" \
    --protocol tcp --port 22 --cidr "$LAPTOP"
fi

step "Zot Elastic IP, TLS, cloud-init"
aws_q EIP_ALLOC EIP_ALLOCATION ec2 describe-addresses --filters "Name=tag:Name,Values=$NAME-zot" \
  --query 'Addresses[0].AllocationId'
if ! found "$EIP_ALLOC"; then
  aws_q EIP_ALLOC EIP_ALLOCATION ec2 allocate-address --domain vpc \
    --tag-specifications "ResourceType=elastic-ip,Tags=[{Key=Name,Value=$NAME-zot},{Key=blackfriday,Value=$NAME}]" \
    --query AllocationId
fi
aws_q ZOT_PUBLIC_IP ZOT_PUBLIC_IP ec2 describe-addresses --allocation-ids "$EIP_ALLOC" --query 'Addresses[0].PublicIp'
zot_prepare_vm_files

step "Zot EC2 VM (Ubuntu 24.04, $ZOT_INSTANCE)"
aws_q ZOT_INSTANCE_ID ZOT_INSTANCE_ID ec2 describe-instances \
  --filters "Name=tag:Name,Values=$NAME-zot" Name=instance-state-name,Values=pending,running,stopping,stopped \
  --query 'Reservations[0].Instances[0].InstanceId'
if ! found "$ZOT_INSTANCE_ID"; then
  aws_q AMI UBUNTU_AMI ssm get-parameters \
    --names /aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id \
    --query 'Parameters[0].Value'
  aws_q ZOT_INSTANCE_ID ZOT_INSTANCE_ID ec2 run-instances --image-id "$AMI" --instance-type "$ZOT_INSTANCE" \
    --subnet-id "$PUBLIC_SUBNET" --security-group-ids "$ZOT_SG" ${KEY_NAME:+--key-name "$KEY_NAME"} \
    --user-data "file://$STATE/zot-user-data.yaml" \
    --block-device-mappings 'DeviceName=/dev/sda1,Ebs={VolumeSize=50,VolumeType=gp3}' \
    --tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=$NAME-zot},{Key=blackfriday,Value=$NAME}]" \
    --query 'Instances[0].InstanceId'
fi
aws_ ec2 wait instance-running --instance-ids "$ZOT_INSTANCE_ID"
aws_ ec2 associate-address --allocation-id "$EIP_ALLOC" --instance-id "$ZOT_INSTANCE_ID" --allow-reassociation
aws_q ZOT_PRIVATE_IP ZOT_PRIVATE_IP ec2 describe-instances --instance-ids "$ZOT_INSTANCE_ID" \
  --query 'Reservations[0].Instances[0].PrivateIpAddress'

step "Route 53 private zone $DNS_ZONE: $ZOT_NAME -> the VM's private address"
aws_q ZONE_ID HOSTED_ZONE_ID route53 list-hosted-zones-by-name --dns-name "$DNS_ZONE" \
  --query "HostedZones[?Name=='$DNS_ZONE.' && Config.PrivateZone].Id | [0]"
if ! found "$ZONE_ID"; then
  aws_q ZONE_ID HOSTED_ZONE_ID route53 create-hosted-zone --name "$DNS_ZONE" \
    --caller-reference "$NAME-$DNS_ZONE-$(date +%s)" --vpc "VPCRegion=$REGION,VPCId=$VPC_ID" \
    --hosted-zone-config "PrivateZone=true,Comment=blackfriday: the name nodes pull Zot from" --query HostedZone.Id
fi
run_to "$STATE/zot-record.json" printf '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"%s.","Type":"A","TTL":300,"ResourceRecords":[{"Value":"%s"}]}}]}' \
  "$ZOT_NAME" "$ZOT_PRIVATE_IP"
aws_ route53 change-resource-record-sets --hosted-zone-id "$ZONE_ID" --change-batch "file://$STATE/zot-record.json"
zot_wait_ready

step "node groups ($GENERAL_NODES x $GENERAL_INSTANCE, $KUBEVIRT_NODES x $KUBEVIRT_INSTANCE), each trusting Zot at bootstrap"
run eksctl create nodegroup -f "$STATE/cluster.yaml"
run eksctl utils write-kubeconfig --cluster "$NAME" --region "$REGION"
run kubectl get nodes -L blackfriday.dev/kubevirt
run kubectl get storageclass

if [ "$managed_data" = 1 ]; then
  step "managed data: Amazon MSK + ElastiCache for Valkey (option)"
  create_managed_data
fi

deploy_on_cluster "F5 NGINX Ingress behind an NLB"
