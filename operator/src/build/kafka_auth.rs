//! Kafka authentication (docs/kafka-auth.md).
//!
//! Strimzi with `kafka.authentication: scram-sha-512` (the default): the Kafka gets a TLS listener
//! with SCRAM-SHA-512 and `simple` authorization, and each program a `KafkaUser` (one per writer
//! tier, one for the consumer) whose ACLs allow exactly its side of the topic: a writer Write and
//! Describe on the topic; the consumer Read and Describe on the topic and Read on its group. The
//! KafkaUsers live in the ingest namespace, which the Kafka's User Operator watches
//! (`entityOperator.userOperator.watchedNamespace`), so the Secret Strimzi creates for each user
//! (same name, keys `password` and `sasl.jaas.config`) is next to the pods that read it: the
//! operator never reads a Kafka password. The one thing copied is the cluster CA certificate
//! (`<cluster>-cluster-ca-cert`, key `ca.crt`, in the kafka namespace), into `kafka-ca` in the
//! ingest namespace.
//!
//! External Kafka: `kafka.sasl` (mechanism, username, password Secret) and `kafka.tls` (optional
//! CA Secret); the operator copies the password and the CA into the ingest namespace, like the
//! external Valkey password.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use serde_json::{json, Value};

use super::{meta, Child, ClusterInputs};
use crate::crd::{KafkaAuthentication, KafkaMode, SecretKeyRef};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

const STRIMZI_CLUSTER_LABEL: &str = "strimzi.io/cluster";
/// Shown by `render` where the CA is only known in the cluster.
pub const OFFLINE_CA: &str = "<copied from the Kafka CA Secret at reconcile time>";
/// Shown by `render` where the external SASL password is only known in the cluster.
pub const OFFLINE_PASSWORD: &str = "<copied from kafka.sasl.passwordSecret at reconcile time>";

/// A value read from the cluster before building.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Fetched {
    /// Not read (offline `render`): a placeholder is shown.
    #[default]
    Offline,
    /// Its Secret (or key) does not exist (yet): no copy is written, and the pods that name the
    /// copy wait for it instead of starting with a wrong value.
    Missing,
    Found(String),
}

impl Fetched {
    fn value_or<'a>(&'a self, offline: &'a str) -> Option<&'a str> {
        match self {
            Self::Offline => Some(offline),
            Self::Missing => None,
            Self::Found(v) => Some(v),
        }
    }
}

/// The Kafka login values read from the cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KafkaLoginInputs {
    /// The CA certificate (PEM) the programs trust for Kafka.
    pub ca: Fetched,
    /// The external Kafka's SASL password.
    pub sasl_password: Fetched,
}

/// How the programs log in to Kafka, resolved from the spec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KafkaLogin<'a> {
    /// Plain TCP, no login (Strimzi with `authentication: none`, or an external Kafka without
    /// `sasl`/`tls`).
    Open,
    /// Strimzi's TLS listener; each program logs in as its own KafkaUser.
    StrimziScram,
    /// An external Kafka: one login for every program, TLS when `tls` is set.
    External {
        sasl: Option<&'a crate::crd::ExternalKafkaSasl>,
        tls: Option<&'a crate::crd::ExternalKafkaTls>,
    },
}

pub fn login(p: &ValidPipeline) -> KafkaLogin<'_> {
    let kafka = &p.spec.kafka;
    match (kafka.mode, kafka.authentication) {
        (KafkaMode::Strimzi, KafkaAuthentication::ScramSha512) => KafkaLogin::StrimziScram,
        (KafkaMode::Strimzi, KafkaAuthentication::None) => KafkaLogin::Open,
        (KafkaMode::External, _) if kafka.sasl.is_none() && kafka.tls.is_none() => KafkaLogin::Open,
        (KafkaMode::External, _) => KafkaLogin::External {
            sasl: kafka.sasl.as_ref(),
            tls: kafka.tls.as_ref(),
        },
    }
}

/// The port of the Strimzi listener the programs use.
pub fn strimzi_port(authentication: KafkaAuthentication) -> i32 {
    match authentication {
        KafkaAuthentication::ScramSha512 => names::KAFKA_TLS_PORT,
        KafkaAuthentication::None => names::KAFKA_PLAIN_PORT,
    }
}

/// The Strimzi Kafka's one listener (`GenericKafkaListener`).
pub fn listener(p: &ValidPipeline) -> Value {
    let port = strimzi_port(p.spec.kafka.authentication);
    match p.spec.kafka.authentication {
        KafkaAuthentication::ScramSha512 => json!({
            "name": "tls", "port": port, "type": "internal", "tls": true,
            "authentication": {"type": "scram-sha-512"}
        }),
        KafkaAuthentication::None => {
            json!({"name": "plain", "port": port, "type": "internal", "tls": false})
        }
    }
}

/// `spec.kafka.authorization` of the Strimzi Kafka: ACLs enforced (Strimzi's own components
/// are super users over their mTLS listener).
pub fn authorization(p: &ValidPipeline) -> Option<Value> {
    (login(p) == KafkaLogin::StrimziScram).then(|| json!({"type": "simple"}))
}

/// `spec.entityOperator`: the Topic Operator for our KafkaTopic; with authentication also the
/// User Operator, watching the ingest namespace where the KafkaUsers and their Secrets are.
pub fn entity_operator(p: &ValidPipeline) -> Value {
    let mut operators = json!({"topicOperator": {}});
    if login(p) == KafkaLogin::StrimziScram {
        operators["userOperator"] = json!({"watchedNamespace": p.ns_ingest()});
    }
    operators
}

/// The Strimzi Secret holding the cluster CA certificate (in the kafka namespace).
pub fn strimzi_cluster_ca(p: &ValidPipeline) -> SecretKeyRef {
    SecretKeyRef {
        name: format!("{}-cluster-ca-cert", p.spec.kafka.cluster_name),
        namespace: p.ns_kafka().to_string(),
        key: names::KAFKA_CA_KEY.to_string(),
    }
}

/// Where the CA the programs trust is read from (`None`: no TLS, or the system roots).
pub fn ca_source(p: &ValidPipeline) -> Option<SecretKeyRef> {
    match login(p) {
        KafkaLogin::StrimziScram => Some(strimzi_cluster_ca(p)),
        KafkaLogin::External { tls: Some(tls), .. } => tls.ca_secret.clone(),
        _ => None,
    }
}

/// Where the external SASL password is read from.
pub fn sasl_password_source(p: &ValidPipeline) -> Option<SecretKeyRef> {
    match login(p) {
        KafkaLogin::External {
            sasl: Some(sasl), ..
        } => Some(sasl.password_secret.clone()),
        _ => None,
    }
}

/// One access rule of a KafkaUser (`AclRule`): allow `operations` on a literal resource.
fn allow(resource_type: &str, name: &str, operations: &[&str]) -> Value {
    json!({
        "type": "allow",
        "resource": {"type": resource_type, "name": name, "patternType": "literal"},
        "operations": operations,
        "host": "*"
    })
}

/// The ACLs of each program's user (the same table as docs/kafka-auth.md and the bench test
/// go-services/internal/kafkaauth/bench_test.go).
pub fn acls(p: &ValidPipeline, user: &str) -> Vec<Value> {
    let topic = &p.spec.kafka.topic.name;
    if user == names::CONSUMER {
        vec![
            allow("topic", topic, &["Read", "Describe"]),
            allow("group", &p.spec.consumer.group, &["Read"]),
        ]
    } else {
        // Idempotent producers need no cluster IdempotentWrite since Kafka 3.0 (KIP-679): Write
        // on the topic covers InitProducerId (shown on the bench broker, 22-kafka-auth).
        vec![allow("topic", topic, &["Write", "Describe"])]
    }
}

/// The KafkaUser names: one per program Deployment that talks to Kafka.
pub fn users() -> [&'static str; 3] {
    [names::GRPC_SERVER_1, names::GRPC_SERVER_2, names::CONSUMER]
}

fn kafka_user(p: &ValidPipeline, user: &str) -> Child {
    let mut metadata = meta(p, p.ns_ingest(), user, "kafka");
    metadata.labels.get_or_insert_with(Default::default).insert(
        STRIMZI_CLUSTER_LABEL.into(),
        p.spec.kafka.cluster_name.clone(),
    );
    let object = json!({
        "metadata": metadata,
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acls(p, user)}
        }
    });
    Child::new(ChildKind::KafkaUser, &object)
}

fn copy(p: &ValidPipeline, name: &str, key: &str, value: &str, from: &SecretKeyRef) -> Child {
    let mut metadata = meta(p, p.ns_ingest(), name, "kafka");
    metadata.annotations = Some(BTreeMap::from([(
        "blackfriday.dev/copied-from".to_string(),
        format!("{}/{}", from.namespace, from.name),
    )]));
    let secret = Secret {
        metadata,
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            key.to_string(),
            ByteString(value.as_bytes().to_vec()),
        )])),
        ..Default::default()
    };
    Child::new(ChildKind::Secret, &secret)
}

/// KafkaUsers (Strimzi with authentication) and the copies in the ingest namespace.
pub fn build(p: &ValidPipeline, inputs: &ClusterInputs) -> Vec<Child> {
    let mut children = Vec::new();
    if login(p) == KafkaLogin::StrimziScram {
        children.extend(users().iter().map(|user| kafka_user(p, user)));
    }
    if let (Some(source), Some(ca)) = (ca_source(p), inputs.kafka.ca.value_or(OFFLINE_CA)) {
        children.push(copy(
            p,
            names::KAFKA_CA_COPY,
            names::KAFKA_CA_KEY,
            ca,
            &source,
        ));
    }
    if let (Some(source), Some(password)) = (
        sasl_password_source(p),
        inputs.kafka.sasl_password.value_or(OFFLINE_PASSWORD),
    ) {
        children.push(copy(
            p,
            names::KAFKA_SASL_COPY,
            names::KAFKA_PASSWORD_KEY,
            password,
            &source,
        ));
    }
    children
}

/// What must roll the Kafka clients' pods when it changes: the CA (Strimzi renews its cluster
/// CA) and the external password. A KafkaUser's own password arrives through a secretKeyRef the
/// operator does not read; Strimzi keeps it for the user's life (docs/kafka-auth.md).
pub fn hashed_inputs(inputs: &ClusterInputs) -> String {
    format!("{:?}", inputs.kafka)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::desired;
    use crate::crd::{BlackFridayPipelineSpec, ExternalKafkaSasl, ExternalKafkaTls, SaslMechanism};
    use crate::validate::validate_spec;

    fn render(spec: &BlackFridayPipelineSpec, inputs: &ClusterInputs) -> crate::build::Desired {
        desired(&validate_spec("bf", None, Some(1), spec).unwrap(), inputs)
    }

    fn env(d: &crate::build::Desired, deployment: &str) -> BTreeMap<String, Value> {
        let dep = d
            .find(ChildKind::Deployment, Some("ingest"), deployment)
            .unwrap();
        dep.object.data["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
            .collect()
    }

    fn secret_ref(e: &Value) -> (String, String) {
        let r = &e["valueFrom"]["secretKeyRef"];
        (
            r["name"].as_str().unwrap().into(),
            r["key"].as_str().unwrap().into(),
        )
    }

    #[test]
    fn the_default_is_a_scram_tls_listener_with_acls_and_a_user_per_program() {
        let d = render(
            &BlackFridayPipelineSpec::default(),
            &ClusterInputs::default(),
        );
        let kafka = &d
            .find(ChildKind::Kafka, Some("kafka"), "blackfriday")
            .unwrap()
            .object
            .data["spec"];
        let mut listener = kafka["kafka"]["listeners"][0].clone();
        // networkPolicyPeers belongs to the NetworkPolicies (build/network_policies.rs)
        listener
            .as_object_mut()
            .unwrap()
            .remove("networkPolicyPeers");
        assert_eq!(kafka["kafka"]["listeners"].as_array().unwrap().len(), 1);
        assert_eq!(
            listener,
            json!({"name": "tls", "port": 9093, "type": "internal", "tls": true,
                   "authentication": {"type": "scram-sha-512"}})
        );
        assert_eq!(kafka["kafka"]["authorization"], json!({"type": "simple"}));
        assert_eq!(
            kafka["entityOperator"]["userOperator"]["watchedNamespace"],
            "ingest"
        );
        let users: Vec<&str> = d.of_kind(ChildKind::KafkaUser).map(|c| c.name()).collect();
        assert_eq!(users, ["grpc-server-1", "grpc-server-2", "consumer"]);
        let writer = &d
            .find(ChildKind::KafkaUser, Some("ingest"), "grpc-server-2")
            .unwrap()
            .object;
        assert_eq!(
            writer.metadata.labels.as_ref().unwrap()["strimzi.io/cluster"],
            "blackfriday"
        );
        assert_eq!(
            writer.data["spec"]["authorization"]["acls"],
            json!([{"type": "allow", "host": "*", "operations": ["Write", "Describe"],
                    "resource": {"type": "topic", "name": "ventas", "patternType": "literal"}}])
        );
        let consumer = &d
            .find(ChildKind::KafkaUser, Some("ingest"), "consumer")
            .unwrap()
            .object;
        let acls = consumer.data["spec"]["authorization"]["acls"]
            .as_array()
            .unwrap();
        assert_eq!(acls[0]["operations"], json!(["Read", "Describe"]));
        assert_eq!(
            acls[1]["resource"],
            json!({"type": "group", "name": "ventas-valkey", "patternType": "literal"})
        );
        assert_eq!(acls[1]["operations"], json!(["Read"]));
    }

    #[test]
    fn each_program_logs_in_as_its_own_user_with_strimzis_secret_and_the_cluster_ca() {
        let d = render(
            &BlackFridayPipelineSpec::default(),
            &ClusterInputs::default(),
        );
        for program in users() {
            let env = env(&d, program);
            assert_eq!(env["KAFKA_SASL_MECHANISM"]["value"], "SCRAM-SHA-512");
            assert_eq!(env["KAFKA_SASL_USERNAME"]["value"], program);
            // the Secret Strimzi's User Operator creates for the KafkaUser: same name, key password
            assert_eq!(
                secret_ref(&env["KAFKA_SASL_PASSWORD"]),
                (program.to_string(), "password".to_string())
            );
            assert_eq!(env["KAFKA_TLS"]["value"], "true");
            assert_eq!(
                secret_ref(&env["KAFKA_TLS_CA"]),
                ("kafka-ca".to_string(), "ca.crt".to_string())
            );
            assert_eq!(
                env["KAFKA_BROKERS"]["value"],
                "blackfriday-kafka-bootstrap.kafka.svc.cluster.local:9093"
            );
        }
        let ca = &d
            .find(ChildKind::Secret, Some("ingest"), "kafka-ca")
            .unwrap()
            .object;
        assert_eq!(
            ca.metadata.annotations.as_ref().unwrap()["blackfriday.dev/copied-from"],
            "kafka/blackfriday-cluster-ca-cert"
        );
    }

    #[test]
    fn a_missing_cluster_ca_is_not_copied_and_a_renewed_one_rolls_the_pods() {
        let spec = BlackFridayPipelineSpec::default();
        let with = |ca: Fetched| {
            let mut inputs = ClusterInputs::default();
            inputs.kafka.ca = ca;
            render(&spec, &inputs)
        };
        assert!(with(Fetched::Missing)
            .find(ChildKind::Secret, Some("ingest"), "kafka-ca")
            .is_none());
        let hash = |d: &crate::build::Desired| {
            d.find(ChildKind::Deployment, Some("ingest"), "consumer")
                .unwrap()
                .object
                .data["spec"]["template"]["metadata"]["annotations"][names::ANNOTATION_CONFIG_HASH]
                .clone()
        };
        let a = with(Fetched::Found("A".into()));
        assert_eq!(
            a.find(ChildKind::Secret, Some("ingest"), "kafka-ca")
                .unwrap()
                .object
                .data["data"]["ca.crt"],
            "QQ=="
        );
        assert_ne!(hash(&a), hash(&with(Fetched::Found("B".into()))));
    }

    #[test]
    fn authentication_none_is_the_open_plain_listener() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.authentication = KafkaAuthentication::None;
        let d = render(&spec, &ClusterInputs::default());
        let kafka = &d
            .find(ChildKind::Kafka, Some("kafka"), "blackfriday")
            .unwrap()
            .object
            .data["spec"];
        assert_eq!(kafka["kafka"]["listeners"][0]["port"], 9092);
        assert!(kafka["kafka"].get("authorization").is_none());
        assert!(kafka["entityOperator"].get("userOperator").is_none());
        assert_eq!(d.of_kind(ChildKind::KafkaUser).count(), 0);
        assert!(!env(&d, "consumer").contains_key("KAFKA_SASL_MECHANISM"));
        assert!(d
            .find(ChildKind::Secret, Some("ingest"), "kafka-ca")
            .is_none());
    }

    fn external(mechanism: SaslMechanism, ca: bool) -> BlackFridayPipelineSpec {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("b-1.msk.example.com:9096".into());
        spec.kafka.sasl = Some(ExternalKafkaSasl {
            mechanism,
            username: "blackfriday".into(),
            password_secret: SecretKeyRef {
                name: "msk-login".into(),
                namespace: "ops".into(),
                key: "password".into(),
            },
        });
        spec.kafka.tls = Some(ExternalKafkaTls {
            ca_secret: ca.then(|| SecretKeyRef {
                name: "msk-ca".into(),
                namespace: "ops".into(),
                key: "ca.pem".into(),
            }),
        });
        spec
    }

    #[test]
    fn external_kafka_uses_one_copied_login_for_every_program() {
        let mut inputs = ClusterInputs::default();
        inputs.kafka.sasl_password = Fetched::Found("s3cret".into());
        let d = render(&external(SaslMechanism::ScramSha512, true), &inputs);
        assert_eq!(d.of_kind(ChildKind::KafkaUser).count(), 0);
        for program in users() {
            let env = env(&d, program);
            assert_eq!(env["KAFKA_SASL_USERNAME"]["value"], "blackfriday");
            assert_eq!(
                secret_ref(&env["KAFKA_SASL_PASSWORD"]),
                ("kafka-sasl".to_string(), "password".to_string())
            );
            assert_eq!(
                secret_ref(&env["KAFKA_TLS_CA"]),
                ("kafka-ca".to_string(), "ca.crt".to_string())
            );
        }
        let copy = &d
            .find(ChildKind::Secret, Some("ingest"), "kafka-sasl")
            .unwrap()
            .object;
        assert_eq!(copy.data["data"]["password"], "czNjcmV0"); // base64("s3cret")
                                                               // Without a CA Secret: TLS with the system roots, no CA copy, no KAFKA_TLS_CA.
        let d = render(&external(SaslMechanism::Plain, false), &inputs);
        let env = env(&d, "grpc-server-1");
        assert_eq!(env["KAFKA_SASL_MECHANISM"]["value"], "PLAIN");
        assert_eq!(env["KAFKA_TLS"]["value"], "true");
        assert!(!env.contains_key("KAFKA_TLS_CA"));
        assert!(d
            .find(ChildKind::Secret, Some("ingest"), "kafka-ca")
            .is_none());
    }
}
