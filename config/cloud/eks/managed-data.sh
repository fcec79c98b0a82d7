# shellcheck shell=bash
# OPTION --managed-data of eks/up.sh (sourced): Amazon MSK (provisioned, plaintext inside the VPC)
# and ElastiCache for Valkey (a primary + 1 replica) in the cluster VPC's private subnets, reachable
# from the cluster security group only; the pipeline then uses them through spec.kafka.mode:
# external (bootstrapServers) and spec.valkey.mode: external (the operator's bring-your-own mode),
# so no Strimzi Kafka and no KubeVirt Valkey VMs are created. Expects REGION, NAME, VPC_ID,
# CLUSTER_SG, STATE and the lib.sh helpers. MSK takes 20-40 minutes to become ACTIVE.
MSK_KAFKA_VERSION=${MSK_KAFKA_VERSION:-3.9.x}
MSK_INSTANCE=${MSK_INSTANCE:-kafka.t3.small}
VALKEY_NODE=${VALKEY_NODE:-cache.t4g.small}
VALKEY_ENGINE_VERSION=${VALKEY_ENGINE_VERSION:-8.1}

create_managed_data() {
  : "${STATE:?}" "${VPC_ID:?}" "${CLUSTER_SG:?}"
  local q=(--region "$REGION")
  query PRIVATE_SUBNETS PRIVATE_SUBNET_IDS aws "${q[@]}" ec2 describe-subnets \
    --filters "Name=vpc-id,Values=$VPC_ID" Name=tag:kubernetes.io/role/internal-elb,Values=1 \
    --query 'Subnets[0:2].SubnetId' --output text
  # shellcheck disable=SC2206  # two subnet ids, whitespace-separated by the aws CLI
  local subnets=($PRIVATE_SUBNETS)
  query DATA_SG DATA_SG aws "${q[@]}" ec2 describe-security-groups \
    --filters "Name=vpc-id,Values=$VPC_ID" "Name=group-name,Values=$NAME-data" --query 'SecurityGroups[0].GroupId' --output text
  if ! found "$DATA_SG"; then
    query DATA_SG DATA_SG aws "${q[@]}" ec2 create-security-group --group-name "$NAME-data" --vpc-id "$VPC_ID" \
      --description "blackfriday MSK 9092 and Valkey 6379 from EKS nodes" --query GroupId --output text
    run_tolerant "rule exists" aws "${q[@]}" ec2 authorize-security-group-ingress --group-id "$DATA_SG" \
      --protocol tcp --port 9092 --source-group "$CLUSTER_SG"
    run_tolerant "rule exists" aws "${q[@]}" ec2 authorize-security-group-ingress --group-id "$DATA_SG" \
      --protocol tcp --port 6379 --source-group "$CLUSTER_SG"
  fi

  # MSK: a configuration that lets the writers create topic `ventas` (3 partitions, RF 2)
  query MSK_ARN MSK_CLUSTER_ARN aws "${q[@]}" kafka list-clusters-v2 --cluster-name-filter "$NAME-msk" \
    --query 'ClusterInfoList[0].ClusterArn' --output text
  if ! found "$MSK_ARN"; then
    run_to "$STATE/msk.properties" printf '%s\n' auto.create.topics.enable=true num.partitions=3 default.replication.factor=2 min.insync.replicas=1
    query MSK_CONFIG_ARN MSK_CONFIGURATION_ARN aws "${q[@]}" kafka create-configuration --name "$NAME-msk-$(date +%s)" \
      --server-properties "fileb://$STATE/msk.properties" --query Arn --output text
    run_to "$STATE/msk.json" printf '{"BrokerNodeGroupInfo":{"InstanceType":"%s","ClientSubnets":["%s","%s"],"SecurityGroups":["%s"]},"KafkaVersion":"%s","NumberOfBrokerNodes":2,"EncryptionInfo":{"EncryptionInTransit":{"ClientBroker":"PLAINTEXT","InCluster":true}},"ClientAuthentication":{"Unauthenticated":{"Enabled":true}},"ConfigurationInfo":{"Arn":"%s","Revision":1}}' \
      "$MSK_INSTANCE" "${subnets[0]:-<SUBNET_A>}" "${subnets[1]:-<SUBNET_B>}" "$DATA_SG" "$MSK_KAFKA_VERSION" "$MSK_CONFIG_ARN"
    query MSK_ARN MSK_CLUSTER_ARN aws "${q[@]}" kafka create-cluster-v2 --cluster-name "$NAME-msk" \
      --provisioned "file://$STATE/msk.json" --query ClusterArn --output text
  fi

  # ElastiCache for Valkey: primary + 1 replica, automatic failover
  if ! exists aws "${q[@]}" elasticache describe-cache-subnet-groups --cache-subnet-group-name "$NAME-valkey"; then
    run aws "${q[@]}" elasticache create-cache-subnet-group --cache-subnet-group-name "$NAME-valkey" \
      --cache-subnet-group-description "blackfriday Valkey" --subnet-ids "${subnets[@]:-<PRIVATE_SUBNET_IDS>}"
  fi
  if ! exists aws "${q[@]}" elasticache describe-replication-groups --replication-group-id "$NAME-valkey"; then
    run aws "${q[@]}" elasticache create-replication-group --replication-group-id "$NAME-valkey" \
      --replication-group-description "blackfriday counts" --engine valkey --engine-version "$VALKEY_ENGINE_VERSION" \
      --cache-node-type "$VALKEY_NODE" --num-cache-clusters 2 --automatic-failover-enabled \
      --cache-subnet-group-name "$NAME-valkey" --security-group-ids "$DATA_SG"
  fi
  run aws "${q[@]}" elasticache wait replication-group-available --replication-group-id "$NAME-valkey"
  query VALKEY_HOST VALKEY_PRIMARY_ENDPOINT aws "${q[@]}" elasticache describe-replication-groups \
    --replication-group-id "$NAME-valkey" --query 'ReplicationGroups[0].NodeGroups[0].PrimaryEndpoint.Address' --output text

  echo "+ wait until MSK $NAME-msk is ACTIVE (aws kafka describe-cluster-v2 every 60 s)"
  if [ "$DRY_RUN" != 1 ]; then
    local state="" _
    for _ in $(seq 1 60); do
      state="$(aws "${q[@]}" kafka describe-cluster-v2 --cluster-arn "$MSK_ARN" --query ClusterInfo.State --output text)"
      [ "$state" = ACTIVE ] && break
      sleep 60
    done
    [ "$state" = ACTIVE ] || die "MSK $NAME-msk is $state after 60 minutes"
  fi
  query MSK_BOOTSTRAP MSK_BOOTSTRAP_SERVERS aws "${q[@]}" kafka get-bootstrap-brokers --cluster-arn "$MSK_ARN" \
    --query BootstrapBrokerString --output text

  # The pipeline's external mode (merge patch applied after the sample CR).
  run_to "$STATE/pipeline-managed-data.json" printf '{"spec":{"kafka":{"mode":"external","bootstrapServers":"%s"},"valkey":{"mode":"external","address":"%s:6379"}}}' \
    "$MSK_BOOTSTRAP" "$VALKEY_HOST"
  export PIPELINE_PATCH="$STATE/pipeline-managed-data.json"
}

delete_managed_data() {
  local q=(--region "$REGION")
  if exists aws "${q[@]}" elasticache describe-replication-groups --replication-group-id "$NAME-valkey"; then
    run aws "${q[@]}" elasticache delete-replication-group --replication-group-id "$NAME-valkey"
    run aws "${q[@]}" elasticache wait replication-group-deleted --replication-group-id "$NAME-valkey"
  fi
  if exists aws "${q[@]}" elasticache describe-cache-subnet-groups --cache-subnet-group-name "$NAME-valkey"; then
    run aws "${q[@]}" elasticache delete-cache-subnet-group --cache-subnet-group-name "$NAME-valkey"
  fi
  query MSK_ARN MSK_CLUSTER_ARN aws "${q[@]}" kafka list-clusters-v2 --cluster-name-filter "$NAME-msk" \
    --query 'ClusterInfoList[0].ClusterArn' --output text
  if found "$MSK_ARN"; then
    run aws "${q[@]}" kafka delete-cluster --cluster-arn "$MSK_ARN"
    echo "+ wait until MSK $NAME-msk is gone"
    if [ "$DRY_RUN" != 1 ]; then
      while aws "${q[@]}" kafka describe-cluster-v2 --cluster-arn "$MSK_ARN" >/dev/null 2>&1; do sleep 30; done
    fi
  fi
  query DATA_SG DATA_SG aws "${q[@]}" ec2 describe-security-groups \
    --filters "Name=group-name,Values=$NAME-data" --query 'SecurityGroups[0].GroupId' --output text
  if found "$DATA_SG"; then
    run aws "${q[@]}" ec2 delete-security-group --group-id "$DATA_SG"
  fi
}
