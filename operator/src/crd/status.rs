//! What the operator reports back on `status`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BlackFridayPipelineStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Progressing, Degraded, Paused and one per component (RustApi, GrpcClient,
    /// GrpcServer1, GrpcServer2, Consumer, Kafka, Valkey, Grafana, Ingress, Autoscaling).
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// grpc-server-1 + grpc-server-2 replicas asked for (a print column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_replicas: Option<i32>,
    /// Kafka bootstrap address handed to the programs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_bootstrap: Option<String>,
    /// Address of the Valkey primary (writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valkey_primary: Option<String>,
}

/// `metav1.Condition` list keyed by `type`, the way built-in kinds declare it, so server-side
/// apply merges conditions per type.
fn conditions_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": {
            "type": "object",
            "required": ["lastTransitionTime", "message", "reason", "status", "type"],
            "properties": {
                "lastTransitionTime": {"type": "string", "format": "date-time"},
                "message": {"type": "string", "maxLength": 32768},
                "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
                "reason": {"type": "string", "maxLength": 1024},
                "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
                "type": {"type": "string", "maxLength": 316}
            }
        }
    })
}
