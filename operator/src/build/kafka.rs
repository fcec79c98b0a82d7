//! Strimzi `kafka.strimzi.io/v1`: one Kafka (KRaft), one KafkaNodePool with both roles, and the
//! sales KafkaTopic. Only the fields we set are written (foreign types, typed as JSON here and
//! checked against the real Strimzi CRDs with strict field validation in the tests).
//! In v1, replicas/storage/resources live on the node pool only; no kraft/node-pool annotations.

use serde_json::{json, Value};

use super::{kafka_auth, meta, pod_security, Child};
use crate::crd::{KafkaMode, KafkaStorageType, ResourcesSpec};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

const STRIMZI_CLUSTER_LABEL: &str = "strimzi.io/cluster";

pub fn build(p: &ValidPipeline) -> Vec<Child> {
    if p.spec.kafka.mode != KafkaMode::Strimzi {
        return vec![];
    }
    vec![kafka(p), node_pool(p), topic(p)]
}

/// Replication settings that a pool of `brokers` nodes can honour: 3 copies / ISR 2 when there
/// are 3+ brokers, otherwise everything at what exists (a single node must still accept writes).
fn replication(brokers: i32) -> (i32, i32) {
    let factor = brokers.clamp(1, 3);
    let min_isr = if factor >= 3 { 2 } else { 1 };
    (factor, min_isr)
}

fn kafka(p: &ValidPipeline) -> Child {
    let spec = &p.spec.kafka;
    let (factor, min_isr) = replication(spec.node_pool.replicas);
    let mut kafka = json!({
        "listeners": [kafka_auth::listener(p)],
        "config": {
            "offsets.topic.replication.factor": factor,
            "transaction.state.log.replication.factor": factor,
            "transaction.state.log.min.isr": min_isr,
            "default.replication.factor": factor,
            "min.insync.replicas": min_isr,
            // Writers use idempotent producers with acks=all; never elect an out-of-sync leader.
            "unclean.leader.election.enable": false
        }
    });
    if let Some(version) = &spec.version {
        kafka["version"] = json!(version);
    }
    if let Some(authorization) = kafka_auth::authorization(p) {
        kafka["authorization"] = authorization;
    }
    kafka["template"] = broker_containers();
    if p.spec.registry.pull_secret.is_some() {
        kafka["template"]["pod"] = json!({"imagePullSecrets": [{"name": names::PULL_SECRET}]});
    }
    // The topic operator reconciles our KafkaTopic; the user operator (with authentication) our
    // KafkaUsers. Both containers restricted, like the brokers.
    let mut entity_operator = kafka_auth::entity_operator(p);
    let mut template = serde_json::Map::new();
    for (operator, container) in [
        ("topicOperator", "topicOperatorContainer"),
        ("userOperator", "userOperatorContainer"),
    ] {
        if entity_operator.get(operator).is_some() {
            template.insert(
                container.into(),
                json!({"securityContext": pod_security::strimzi_restricted_container()}),
            );
        }
    }
    entity_operator["template"] = Value::Object(template);
    let object = json!({
        "metadata": meta(p, p.ns_kafka(), &spec.cluster_name, "kafka"),
        "spec": {
            "kafka": kafka,
            "entityOperator": entity_operator
        }
    });
    Child::new(ChildKind::Kafka, &object)
}

/// The broker (and its optional init) container's security context, in the `template` of both
/// the Kafka and the KafkaNodePool (a node pool's template replaces the Kafka's for its pods).
/// Strimzi gives a user-supplied template security context to the container as it is, whatever
/// its pod security provider (strimzi-kafka-operator `PodSecurityProvider`,
/// `RestrictedPodSecurityProvider#createRestrictedContainerSecurityContext`), so the brokers meet
/// the kafka namespace's `restricted` level also under Strimzi's default (baseline) provider. The
/// pod security context is left to Strimzi: its providers set `fsGroup: 0` for persistent
/// storage (the image's user 1001 is in group 0), which `restricted` allows.
fn broker_containers() -> Value {
    let container = json!({"securityContext": pod_security::strimzi_restricted_container()});
    json!({"kafkaContainer": container, "initContainer": container})
}

fn resources(r: &ResourcesSpec) -> Option<Value> {
    let mut requests = serde_json::Map::new();
    let mut limits = serde_json::Map::new();
    if let Some(v) = &r.cpu_request {
        requests.insert("cpu".into(), json!(v));
    }
    if let Some(v) = &r.memory_request {
        requests.insert("memory".into(), json!(v));
    }
    if let Some(v) = &r.cpu_limit {
        limits.insert("cpu".into(), json!(v));
    }
    if let Some(v) = &r.memory_limit {
        limits.insert("memory".into(), json!(v));
    }
    if requests.is_empty() && limits.is_empty() {
        return None;
    }
    let mut out = serde_json::Map::new();
    if !requests.is_empty() {
        out.insert("requests".into(), Value::Object(requests));
    }
    if !limits.is_empty() {
        out.insert("limits".into(), Value::Object(limits));
    }
    Some(Value::Object(out))
}

fn node_pool(p: &ValidPipeline) -> Child {
    let spec = &p.spec.kafka;
    let storage = &spec.node_pool.storage;
    let mut volume = match storage.type_ {
        KafkaStorageType::Ephemeral => {
            json!({"id": 0, "type": "ephemeral", "kraftMetadata": "shared"})
        }
        KafkaStorageType::PersistentClaim => json!({
            "id": 0, "type": "persistent-claim", "size": storage.size,
            "deleteClaim": storage.delete_claim, "kraftMetadata": "shared"
        }),
    };
    if let (KafkaStorageType::PersistentClaim, Some(class)) =
        (storage.type_, &storage.storage_class_name)
    {
        volume["class"] = json!(class);
    }
    let mut metadata = meta(p, p.ns_kafka(), names::KAFKA_NODE_POOL, "kafka");
    metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(STRIMZI_CLUSTER_LABEL.into(), spec.cluster_name.clone());
    let mut pool_spec = json!({
        "replicas": spec.node_pool.replicas,
        "roles": ["controller", "broker"],
        "storage": {"type": "jbod", "volumes": [volume]},
        "template": broker_containers()
    });
    if let Some(resources) = resources(&spec.node_pool.resources) {
        pool_spec["resources"] = resources;
    }
    Child::new(
        ChildKind::KafkaNodePool,
        &json!({"metadata": metadata, "spec": pool_spec}),
    )
}

fn topic(p: &ValidPipeline) -> Child {
    let spec = &p.spec.kafka;
    let (_, min_isr) = replication(spec.topic.replicas);
    let mut metadata = meta(p, p.ns_kafka(), &spec.topic.name, "kafka");
    metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(STRIMZI_CLUSTER_LABEL.into(), spec.cluster_name.clone());
    let object = json!({
        "metadata": metadata,
        "spec": {
            "topicName": spec.topic.name,
            "partitions": spec.topic.partitions,
            "replicas": spec.topic.replicas,
            "config": {
                "retention.ms": spec.topic.retention_ms,
                "min.insync.replicas": min_isr
            }
        }
    });
    Child::new(ChildKind::KafkaTopic, &object)
}

#[cfg(test)]
mod tests {
    use super::replication;
    use crate::build::testing::*;

    #[test]
    fn replication_follows_the_broker_count() {
        assert_eq!(replication(1), (1, 1));
        assert_eq!(replication(2), (2, 1));
        assert_eq!(replication(3), (3, 2));
        assert_eq!(replication(5), (3, 2));
    }

    #[test]
    fn kafka_objects_follow_the_spec() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.node_pool.replicas = 3;
        spec.kafka.node_pool.storage.type_ = KafkaStorageType::Ephemeral;
        spec.kafka.topic.replicas = 3;
        let d = build(&spec, None);
        let pool = &get(&d, ChildKind::KafkaNodePool, Some("kafka"), "dual-role").object;
        assert_eq!(
            pool.metadata.labels.as_ref().unwrap()["strimzi.io/cluster"],
            "blackfriday"
        );
        assert_eq!(
            pool.data["spec"]["roles"],
            serde_json::json!(["controller", "broker"])
        );
        assert_eq!(
            pool.data["spec"]["storage"]["volumes"][0]["type"],
            "ephemeral"
        );
        let kafka = &get(&d, ChildKind::Kafka, Some("kafka"), "blackfriday")
            .object
            .data["spec"]["kafka"];
        assert_eq!(kafka["config"]["min.insync.replicas"], 2);
        assert!(
            kafka.get("replicas").is_none(),
            "v1 keeps replicas on the node pool"
        );
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("k:9092".into());
        assert_eq!(build(&spec, None).of_kind(ChildKind::Kafka).count(), 0);
    }
}
