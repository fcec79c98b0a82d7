//! The environment each program is started with — the one place where the operator's view of the
//! programs' configuration lives. Names are the programs' own (rust-api `src/config.rs`, the Go
//! programs' `cmd/*/main.go` flag table); docs/operator.md lists them per Deployment. When a
//! program renames a variable, change it here and the snapshots show every pod it touches.

use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, SecretKeySelector};

use crate::build::KafkaLogin;
use crate::crd::SaslMechanism;
use crate::names;
use crate::validate::ValidPipeline;

// rust-api
pub const RUST_LISTEN_ADDR: &str = "LISTEN_ADDR";
pub const FORWARD_MODE: &str = "FORWARD_MODE";
pub const DOWNSTREAM_URL: &str = "DOWNSTREAM_URL";
pub const WRITER_TARGETS: &str = "WRITER_TARGETS";
pub const LOG_FORMAT: &str = "LOG_FORMAT";
// grpc-client
pub const LISTEN: &str = "LISTEN";
pub const GRPC_SERVER_1: &str = "GRPC_SERVER_1";
pub const GRPC_SERVER_2: &str = "GRPC_SERVER_2";
pub const ROUTE: &str = "ROUTE";
pub const ROUTE_WEIGHT_1: &str = "ROUTE_WEIGHT_1";
pub const ROUTE_WEIGHT_2: &str = "ROUTE_WEIGHT_2";
// writers
pub const WRITER_NAME: &str = "WRITER_NAME";
pub const GRPC_LISTEN: &str = "GRPC_LISTEN";
// Go programs' shared names
pub const METRICS_LISTEN: &str = "METRICS_LISTEN";
pub const LOG_LEVEL: &str = "LOG_LEVEL";
pub const KAFKA_BROKERS: &str = "KAFKA_BROKERS";
pub const KAFKA_TOPIC: &str = "KAFKA_TOPIC";
// Go programs' Kafka login (go-services/internal/kafkaauth)
pub const KAFKA_SASL_MECHANISM: &str = "KAFKA_SASL_MECHANISM";
pub const KAFKA_SASL_USERNAME: &str = "KAFKA_SASL_USERNAME";
pub const KAFKA_SASL_PASSWORD: &str = "KAFKA_SASL_PASSWORD";
pub const KAFKA_TLS: &str = "KAFKA_TLS";
pub const KAFKA_TLS_CA: &str = "KAFKA_TLS_CA";
// consumer
pub const KAFKA_GROUP: &str = "KAFKA_GROUP";
pub const KAFKA_INSTANCE_ID: &str = "KAFKA_INSTANCE_ID";
pub const VALKEY_ADDR: &str = "VALKEY_ADDR";
pub const VALKEY_PASSWORD: &str = "VALKEY_PASSWORD";
pub const FEATURED_CATEGORY: &str = "FEATURED_CATEGORY";
pub const KEY_TTL: &str = "KEY_TTL";

fn plain(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

/// A value the kubelet reads from a Secret in the pod's namespace.
fn from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: None,
            }),
            ..Default::default()
        }),
    }
}

/// How a Kafka client program (`user`: its KafkaUser) logs in (docs/kafka-auth.md): nothing for
/// an open Kafka; with Strimzi's SCRAM listener its own user, the password from the Secret
/// Strimzi creates for that KafkaUser (same name, key `password`) and the copied cluster CA;
/// with an external Kafka the spec's login from the copies in the ingest namespace.
pub fn kafka_login(p: &ValidPipeline, user: &str) -> Vec<EnvVar> {
    let ca = || from_secret(KAFKA_TLS_CA, names::KAFKA_CA_COPY, names::KAFKA_CA_KEY);
    match crate::build::kafka_login(p) {
        KafkaLogin::Open => vec![],
        KafkaLogin::StrimziScram => vec![
            plain(KAFKA_SASL_MECHANISM, SaslMechanism::ScramSha512.as_str()),
            plain(KAFKA_SASL_USERNAME, user),
            from_secret(KAFKA_SASL_PASSWORD, user, names::KAFKA_PASSWORD_KEY),
            plain(KAFKA_TLS, "true"),
            ca(),
        ],
        KafkaLogin::External { sasl, tls } => {
            let mut env = Vec::new();
            if let Some(sasl) = sasl {
                env.push(plain(KAFKA_SASL_MECHANISM, sasl.mechanism.as_str()));
                env.push(plain(KAFKA_SASL_USERNAME, sasl.username.clone()));
                env.push(from_secret(
                    KAFKA_SASL_PASSWORD,
                    names::KAFKA_SASL_COPY,
                    names::KAFKA_PASSWORD_KEY,
                ));
            }
            if let Some(tls) = tls {
                env.push(plain(KAFKA_TLS, "true"));
                if tls.ca_secret.is_some() {
                    env.push(ca());
                }
            }
            env
        }
    }
}

/// A value the kubelet fills from the pod's own object (the downward API), e.g. `metadata.name`.
fn from_pod_field(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: field_path.into(),
            }),
            ..Default::default()
        }),
    }
}

/// rust-api: listens on 8080 (API, /healthz, /readyz, /metrics); forwards over HTTP to
/// grpc-client (rest) or gRPC to every writer pod (grpc; the targets are headless Services).
pub fn rust_api(p: &ValidPipeline) -> Vec<EnvVar> {
    vec![
        plain(
            RUST_LISTEN_ADDR,
            format!("0.0.0.0:{}", names::RUST_API_PORT),
        ),
        plain(FORWARD_MODE, p.spec.rust_api.forward_mode.as_str()),
        plain(DOWNSTREAM_URL, p.grpc_client_url.clone()),
        plain(WRITER_TARGETS, p.writer_targets.join(",")),
        plain(LOG_FORMAT, "json"),
    ]
}

/// grpc-client: REST in on 8081, gRPC out to both writer tiers, split by ROUTE.
pub fn grpc_client(p: &ValidPipeline) -> Vec<EnvVar> {
    vec![
        plain(LISTEN, format!(":{}", names::GRPC_CLIENT_PORT)),
        plain(GRPC_SERVER_1, p.writer_address(names::GRPC_SERVER_1)),
        plain(GRPC_SERVER_2, p.writer_address(names::GRPC_SERVER_2)),
        plain(ROUTE, p.effective_route.as_str()),
        // With both tiers routed, weight each tier by its replica count so every writer pod gets
        // the same share (1:2 by default) instead of grpc-server-1's single pod taking half.
        plain(
            ROUTE_WEIGHT_1,
            p.spec.grpc_server1.replicas.max(1).to_string(),
        ),
        plain(
            ROUTE_WEIGHT_2,
            p.spec.grpc_server2.replicas.max(1).to_string(),
        ),
        plain(LOG_LEVEL, "info"),
    ]
}

/// A writer (grpc-server-1 / grpc-server-2): gRPC in on 50051, /metrics and probes on 9101,
/// produces to Kafka.
pub fn writer(p: &ValidPipeline, writer_name: &str) -> Vec<EnvVar> {
    vec![
        plain(WRITER_NAME, writer_name),
        plain(GRPC_LISTEN, format!(":{}", names::WRITER_PORT)),
        plain(METRICS_LISTEN, format!(":{}", names::WRITER_METRICS_PORT)),
        plain(KAFKA_BROKERS, p.kafka_bootstrap.clone()),
        plain(KAFKA_TOPIC, p.spec.kafka.topic.name.clone()),
        plain(LOG_LEVEL, "info"),
    ]
    .into_iter()
    .chain(kafka_login(p, writer_name))
    .collect()
}

/// The consumer: Kafka group → Valkey primary, password from the copied Secret (none for an
/// external Valkey without AUTH: VALKEY_PASSWORD is then left out, which the consumer reads as "").
pub fn consumer(p: &ValidPipeline) -> Vec<EnvVar> {
    let password = p.valkey_password_source().map(|_| EnvVar {
        name: VALKEY_PASSWORD.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: p.spec.valkey.password_secret.name.clone(),
                key: p.spec.valkey.password_secret.key.clone(),
                optional: None,
            }),
            ..Default::default()
        }),
    });
    vec![
        plain(KAFKA_BROKERS, p.kafka_bootstrap.clone()),
        plain(KAFKA_TOPIC, p.spec.kafka.topic.name.clone()),
        plain(KAFKA_GROUP, p.spec.consumer.group.clone()),
        // Static group membership keyed by the pod name: a container the kubelet restarts in the
        // same pod takes its partitions back at once instead of waiting out the session timeout
        // (docs/go-services.md). Pod names are unique, so two live consumers never share an id.
        from_pod_field(KAFKA_INSTANCE_ID, "metadata.name"),
        plain(VALKEY_ADDR, p.valkey_primary_addr.clone()),
    ]
    .into_iter()
    .chain(password)
    .chain([
        // Price series are kept only for the dashboard's featured category.
        plain(FEATURED_CATEGORY, p.featured_category.as_str()),
        plain(KEY_TTL, format!("{}s", p.spec.valkey.key_ttl_seconds)),
        plain(METRICS_LISTEN, format!(":{}", names::CONSUMER_METRICS_PORT)),
        plain(LOG_LEVEL, "info"),
    ])
    .chain(kafka_login(p, names::CONSUMER))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::BlackFridayPipelineSpec;
    use crate::validate::validate_spec;

    /// The operator sets exactly the variables contract/env.json lists per program (each program's
    /// own tests check it reads them).
    #[test]
    fn every_program_gets_the_variables_of_the_contract() {
        let contract: serde_json::Value =
            serde_json::from_str(include_str!("../../contract/env.json"))
                .expect("contract/env.json");
        let p = validate_spec("bf", None, None, &BlackFridayPipelineSpec::default()).unwrap();
        for (program, env) in [
            (names::RUST_API, rust_api(&p)),
            (names::GRPC_CLIENT, grpc_client(&p)),
            (names::GRPC_SERVER_IMAGE, writer(&p, names::GRPC_SERVER_1)),
            (names::CONSUMER, consumer(&p)),
        ] {
            let mut set: Vec<&str> = env.iter().map(|e| e.name.as_str()).collect();
            set.sort_unstable();
            let mut want: Vec<&str> = contract["programs"][program]
                .as_array()
                .unwrap_or_else(|| panic!("{program} missing from contract/env.json"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            want.sort_unstable();
            assert_eq!(set, want, "{program}");
        }
    }
}
