#!/usr/bin/env bash
# Tear down everything config/cloud/eks/up.sh made, in reverse order (idempotent). The NLB of the
# ingress and the EBS volumes behind PVCs are released first (pipeline, platform releases and PVCs
# deleted while the cluster runs); the managed-data option's MSK and ElastiCache go before the VPC.
#   REGION=us-east-1 config/cloud/eks/down.sh [--dry-run] [--keep-state]
# Same env as up.sh (REGION, NAME, ZOT_NAME).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=config/cloud/lib.sh
. "$here/../lib.sh"
# shellcheck source=config/cloud/teardown.sh
. "$here/../teardown.sh"
# shellcheck source=config/cloud/eks/managed-data.sh
. "$here/managed-data.sh"
parse_common_flags "$0" "$@"
refuse_unknown_args --keep-state
keep_state=$(switch_given --keep-state)
DRY_RUN_ASSUME=present
# shellcheck source=config/cloud/eks/settings.sh
. "$here/settings.sh"
need aws eksctl kubectl helm

step "what Kubernetes made in AWS: the NLB, EBS volumes"
if exists eksctl get cluster --name "$NAME" --region "$REGION"; then
  run eksctl utils write-kubeconfig --cluster "$NAME" --region "$REGION"
  release_cluster_cloud_resources
fi

step "managed data (MSK, ElastiCache), if the option made them"
delete_managed_data

step "Zot VM, Elastic IP, security group"
aws_q ZOT_INSTANCE_ID ZOT_INSTANCE_ID ec2 describe-instances \
  --filters "Name=tag:Name,Values=$NAME-zot" Name=instance-state-name,Values=pending,running,stopping,stopped \
  --query 'Reservations[0].Instances[0].InstanceId'
if found "$ZOT_INSTANCE_ID"; then
  aws_ ec2 terminate-instances --instance-ids "$ZOT_INSTANCE_ID"
  aws_ ec2 wait instance-terminated --instance-ids "$ZOT_INSTANCE_ID"
fi
aws_q EIP_ALLOC EIP_ALLOCATION ec2 describe-addresses --filters "Name=tag:Name,Values=$NAME-zot" \
  --query 'Addresses[0].AllocationId'
if found "$EIP_ALLOC"; then
  aws_ ec2 release-address --allocation-id "$EIP_ALLOC"
fi
aws_q ZOT_SG ZOT_SG ec2 describe-security-groups --filters "Name=group-name,Values=$NAME-zot" \
  --query 'SecurityGroups[0].GroupId'
if found "$ZOT_SG"; then
  aws_ ec2 delete-security-group --group-id "$ZOT_SG"
fi

step "Route 53 private zone"
aws_q ZONE_ID HOSTED_ZONE_ID route53 list-hosted-zones-by-name --dns-name "$DNS_ZONE" \
  --query "HostedZones[?Name=='$DNS_ZONE.' && Config.PrivateZone].Id | [0]"
if found "$ZONE_ID"; then
  aws_q ZOT_PRIVATE_IP ZOT_RECORD_VALUE route53 list-resource-record-sets --hosted-zone-id "$ZONE_ID" \
    --query "ResourceRecordSets[?Name=='$ZOT_NAME.'].ResourceRecords[0].Value | [0]"
  if found "$ZOT_PRIVATE_IP"; then
    run_to "$STATE/zot-record-delete.json" printf '{"Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"%s.","Type":"A","TTL":300,"ResourceRecords":[{"Value":"%s"}]}}]}' \
      "$ZOT_NAME" "$ZOT_PRIVATE_IP"
    aws_ route53 change-resource-record-sets --hosted-zone-id "$ZONE_ID" --change-batch "file://$STATE/zot-record-delete.json"
  fi
  aws_ route53 delete-hosted-zone --id "$ZONE_ID"
fi

step "cluster, node groups and VPC (eksctl)"
if exists eksctl get cluster --name "$NAME" --region "$REGION"; then
  run eksctl delete cluster --name "$NAME" --region "$REGION" --disable-nodegroup-eviction --wait
fi
forget_state "$keep_state"
echo "EKS teardown done. Check nothing is left: aws --region $REGION ec2 describe-volumes --filters Name=tag-key,Values=kubernetes.io/created-for/pvc/name; aws --region $REGION elbv2 describe-load-balancers"
