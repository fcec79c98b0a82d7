//! Object names, ports and labels shared by the builders, the reconciler and the tests.
//!
//! Child names are fixed per tier namespace (one pipeline per cluster), so a re-apply always hits
//! the same objects and SSA stays idempotent without any lookup.

use std::collections::BTreeMap;

/// The field manager of every server-side apply, and the `managed-by` label value.
pub const MANAGER: &str = "blackfriday-operator";

pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const LABEL_PIPELINE: &str = "blackfriday.dev/pipeline";
pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub const LABEL_VALKEY_ROLE: &str = "blackfriday.dev/valkey-role";
/// Pod-template annotation whose value changes whenever the config a pod reads changes.
pub const ANNOTATION_CONFIG_HASH: &str = "blackfriday.dev/config-hash";

pub const RUST_API: &str = "rust-api";
pub const GRPC_CLIENT: &str = "grpc-client";
pub const GRPC_SERVER_1: &str = "grpc-server-1";
pub const GRPC_SERVER_2: &str = "grpc-server-2";
pub const CONSUMER: &str = "consumer";
/// The image both writer Deployments run.
pub const GRPC_SERVER_IMAGE: &str = "grpc-server";
pub const VALKEY: &str = "valkey";
pub const VALKEY_DISK_IMAGE: &str = "valkey-vm";
pub const VALKEY_PRIMARY_SERVICE: &str = "valkey-primary";
pub const VALKEY_READ_SERVICE: &str = "valkey-read";
pub const KAFKA_NODE_POOL: &str = "dual-role";
pub const GRAFANA_DATASOURCE: &str = "blackfriday-valkey-datasource";
pub const GRAFANA_DASHBOARD: &str = "blackfriday-dashboard";
/// Name of the copied registry pull Secret in every namespace that pulls from Zot.
pub const PULL_SECRET: &str = "blackfriday-registry";

pub const RUST_API_PORT: i32 = 8080;
pub const GRPC_CLIENT_PORT: i32 = 8081;
pub const WRITER_PORT: i32 = 50051;
pub const WRITER_METRICS_PORT: i32 = 9101;
pub const CONSUMER_METRICS_PORT: i32 = 9201;
pub const VALKEY_PORT: i32 = 6379;
pub const KAFKA_PLAIN_PORT: i32 = 9092;
/// The Strimzi listener with TLS and SCRAM-SHA-512 (Strimzi's conventional `tls` listener port).
pub const KAFKA_TLS_PORT: i32 = 9093;
/// The Secret in the ingest namespace holding the CA the programs trust for Kafka (key
/// [`KAFKA_CA_KEY`]): a copy of Strimzi's `<cluster>-cluster-ca-cert`, or of `kafka.tls.caSecret`.
pub const KAFKA_CA_COPY: &str = "kafka-ca";
/// Key of the CA certificate, as in Strimzi's cluster CA Secret.
pub const KAFKA_CA_KEY: &str = "ca.crt";
/// The Secret in the ingest namespace holding the external Kafka's SASL password (key `password`).
pub const KAFKA_SASL_COPY: &str = "kafka-sasl";
/// Key of the password in a Strimzi KafkaUser Secret (and in our external copy).
pub const KAFKA_PASSWORD_KEY: &str = "password";

/// The name of VM number `index` (0 is the primary).
pub fn valkey_vm(index: i32) -> String {
    format!("valkey-{index}")
}

/// The data PVC of VM number `index`.
pub fn valkey_data_pvc(index: i32) -> String {
    format!("valkey-data-{index}")
}

/// The Secret holding the cloud-init user-data of VM number `index` (key [`CLOUD_INIT_USER_DATA_KEY`]).
pub fn valkey_cloud_init_secret(index: i32) -> String {
    format!("valkey-{index}-cloud-init")
}

/// The key KubeVirt reads a `userDataSecretRef` Secret's user-data from (it accepts `userdata`
/// or `userData`; user-guide "Startup Scripts", pkg/cloud-init).
pub const CLOUD_INIT_USER_DATA_KEY: &str = "userdata";

/// The root DataVolume of VM number `index` (disk source dataVolume).
pub fn valkey_root_dv(index: i32) -> String {
    format!("valkey-root-{index}")
}

/// Labels every child carries; pruning lists children by exactly these two.
pub fn ownership_labels(pipeline: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_MANAGED_BY.to_string(), MANAGER.to_string()),
        (LABEL_PIPELINE.to_string(), pipeline.to_string()),
    ])
}

/// The label selector matching every child of `pipeline`.
pub fn ownership_selector(pipeline: &str) -> String {
    format!("{LABEL_MANAGED_BY}={MANAGER},{LABEL_PIPELINE}={pipeline}")
}

/// Selector labels of one component's pods (stable: Deployment selectors are immutable).
pub fn selector_labels(pipeline: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_string(), component.to_string()),
        (LABEL_PIPELINE.to_string(), pipeline.to_string()),
    ])
}

/// Metadata labels of one component's objects and pods.
pub fn component_labels(pipeline: &str, component: &str) -> BTreeMap<String, String> {
    let mut labels = ownership_labels(pipeline);
    labels.extend(selector_labels(pipeline, component));
    labels.insert(LABEL_PART_OF.to_string(), "blackfriday".to_string());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ports are contract/ports.json's (the images and the programs' defaults are checked
    /// against the same file).
    #[test]
    fn ports_are_the_contracts() {
        let c: serde_json::Value = serde_json::from_str(include_str!("../../contract/ports.json"))
            .expect("contract/ports.json");
        let port = |v: &serde_json::Value| v.as_i64().map(|p| p as i32);
        for (want, ours) in [
            (&c["programs"]["rust-api"]["http"], RUST_API_PORT),
            (&c["programs"]["grpc-client"]["http"], GRPC_CLIENT_PORT),
            (&c["programs"]["grpc-server"]["grpc"], WRITER_PORT),
            (
                &c["programs"]["grpc-server"]["metrics"],
                WRITER_METRICS_PORT,
            ),
            (&c["programs"]["consumer"]["metrics"], CONSUMER_METRICS_PORT),
            (&c["services"]["valkey"], VALKEY_PORT),
            (&c["services"]["kafka-plain"], KAFKA_PLAIN_PORT),
            (&c["services"]["kafka-tls"], KAFKA_TLS_PORT),
        ] {
            assert_eq!(port(want), Some(ours), "{want}");
        }
    }
}
