//! How the writers and the consumer log in to Kafka (docs/kafka-auth.md): with the operator's
//! Strimzi Kafka, `kafka.authentication`; with an external Kafka (MSK, Confluent), `kafka.sasl`
//! and `kafka.tls`.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SecretKeyRef;

/// Authentication of the operator's Strimzi Kafka (read only when `kafka.mode` is strimzi).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KafkaAuthentication {
    /// A TLS listener (port 9093) with SCRAM-SHA-512 and `simple` authorization: one KafkaUser per
    /// program, with ACLs that let a writer only write the topic and the consumer only read it in
    /// its group. The programs get their password from the Secret Strimzi creates for their
    /// KafkaUser and trust the cluster CA.
    #[default]
    #[serde(rename = "scram-sha-512")]
    ScramSha512,
    /// The plain listener (port 9092) without authentication or ACLs: every pod that reaches the
    /// brokers may read and write every topic.
    #[serde(rename = "none")]
    None,
}

impl KafkaAuthentication {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScramSha512 => "scram-sha-512",
            Self::None => "none",
        }
    }
}

/// SASL mechanisms the programs speak (franz-go's `sasl/scram` and `sasl/plain`).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SaslMechanism {
    /// MSK's SASL/SCRAM, Strimzi, Redpanda.
    #[default]
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// Confluent Cloud's API keys. Needs `tls` (PLAIN sends the password as it is).
    #[serde(rename = "PLAIN")]
    Plain,
}

impl SaslMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::Plain => "PLAIN",
        }
    }
}

/// The login every program uses on an external Kafka (mode external).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalKafkaSasl {
    #[serde(default)]
    pub mechanism: SaslMechanism,
    /// The SASL username (an MSK SCRAM secret's username, a Confluent API key).
    #[schemars(length(min = 1, max = 256))]
    pub username: String,
    /// The Secret key holding the password; the operator copies it into the ingest namespace.
    pub password_secret: SecretKeyRef,
}

/// TLS to an external Kafka (mode external). Present: the programs connect over TLS.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExternalKafkaTls {
    /// The Secret key holding the PEM of the CA that signed the brokers' certificates (copied into
    /// the ingest namespace). Absent: the system's roots, right for MSK and Confluent Cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<SecretKeyRef>,
}
