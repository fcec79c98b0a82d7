//! The environment each program is started with — the one place where the operator's view of the
//! programs' configuration lives (docs/contracts.md; docs/operator.md lists them per Deployment).
//! When a program renames a flag, change it here and the snapshots show every pod it touches.

use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, SecretKeySelector};

use crate::crd::ForwardMode;
use crate::names;
use crate::validate::ValidPipeline;

// Names shared by several programs.
pub const LISTEN_ADDR: &str = "BF_LISTEN_ADDR";
pub const METRICS_ADDR: &str = "BF_METRICS_ADDR";
pub const FORWARD_MODE: &str = "BF_FORWARD_MODE";
pub const DOWNSTREAM_URL: &str = "BF_DOWNSTREAM_URL";
pub const WRITER_TARGETS: &str = "BF_WRITER_TARGETS";
pub const WRITER_NAME: &str = "BF_WRITER_NAME";
pub const POD_NAME: &str = "BF_POD_NAME";
pub const KAFKA_BROKERS: &str = "KAFKA_BROKERS";
pub const KAFKA_TOPIC: &str = "KAFKA_TOPIC";
pub const KAFKA_GROUP: &str = "KAFKA_GROUP";
pub const VALKEY_ADDR: &str = "VALKEY_ADDR";
pub const VALKEY_PASSWORD: &str = "VALKEY_PASSWORD";
pub const VALKEY_KEY_TTL: &str = "BF_KEY_TTL_SECONDS";
pub const RUST_LOG: &str = "RUST_LOG";

fn plain(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), value_from: None }
}

/// The pod's own name (the writers put it in `estado`; the consumer in its group instance id).
fn pod_name() -> EnvVar {
    EnvVar {
        name: POD_NAME.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector { field_path: "metadata.name".into(), api_version: None }),
            ..Default::default()
        }),
    }
}

/// rust-api: listens on 8080; forwards over HTTP to grpc-client (rest) or gRPC to the writers (grpc).
pub fn rust_api(p: &ValidPipeline) -> Vec<EnvVar> {
    vec![
        plain(LISTEN_ADDR, format!("0.0.0.0:{}", names::RUST_API_PORT)),
        plain(FORWARD_MODE, p.spec.rust_api.forward_mode.as_str()),
        plain(DOWNSTREAM_URL, p.grpc_client_url.clone()),
        plain(WRITER_TARGETS, p.writer_targets.join(",")),
        plain(RUST_LOG, "info"),
    ]
}

/// grpc-client: REST in on 8081, gRPC out to the writers (headless Services: one address per pod).
pub fn grpc_client(p: &ValidPipeline) -> Vec<EnvVar> {
    vec![
        plain(LISTEN_ADDR, format!("0.0.0.0:{}", names::GRPC_CLIENT_PORT)),
        plain(WRITER_TARGETS, p.writer_targets.join(",")),
        pod_name(),
    ]
}

/// A writer (grpc-server-1 / grpc-server-2): gRPC in on 50051, produces to Kafka.
pub fn writer(p: &ValidPipeline, writer_name: &str) -> Vec<EnvVar> {
    vec![
        plain(LISTEN_ADDR, format!("0.0.0.0:{}", names::WRITER_PORT)),
        plain(METRICS_ADDR, format!("0.0.0.0:{}", names::WRITER_METRICS_PORT)),
        plain(WRITER_NAME, writer_name),
        plain(KAFKA_BROKERS, p.kafka_bootstrap.clone()),
        plain(KAFKA_TOPIC, p.spec.kafka.topic.name.clone()),
        pod_name(),
    ]
}

/// The consumer: Kafka group → Valkey primary, password from the copied Secret.
pub fn consumer(p: &ValidPipeline) -> Vec<EnvVar> {
    vec![
        plain(METRICS_ADDR, format!("0.0.0.0:{}", names::CONSUMER_METRICS_PORT)),
        plain(KAFKA_BROKERS, p.kafka_bootstrap.clone()),
        plain(KAFKA_TOPIC, p.spec.kafka.topic.name.clone()),
        plain(KAFKA_GROUP, p.spec.consumer.group.clone()),
        plain(VALKEY_ADDR, p.valkey_primary_addr.clone()),
        EnvVar {
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
        },
        plain(VALKEY_KEY_TTL, p.spec.valkey.key_ttl_seconds.to_string()),
        pod_name(),
    ]
}

/// Whether rust-api needs grpc-client at all (only in rest mode).
pub fn rust_api_uses_grpc_client(p: &ValidPipeline) -> bool {
    p.spec.rust_api.forward_mode == ForwardMode::Rest
}
