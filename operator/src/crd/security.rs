//! `spec.networkPolicies`: the NetworkPolicies the operator renders into the namespaces it owns,
//! and the few facts about the platform they need (where the ingress controller, Strimzi's cluster
//! operator and an optional Prometheus run). See docs/security.md.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// Default deny in every namespace the operator owns, plus exactly the pipeline's edges.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPoliciesSpec {
    /// Render the NetworkPolicies. Turn off only on clusters whose network plugin does not enforce
    /// them (they would be inert there) or where another tool owns the namespaces' policies.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Namespace of the ingress controller whose pods forward to rust-api (the default platform
    /// install, config/platform/nginx-ingress, uses `nginx-ingress`).
    #[serde(default = "default_ingress_controller_ns")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub ingress_controller_namespace: String,
    /// Namespace of Strimzi's cluster operator (it talks to the brokers' control port).
    #[serde(default = "default_strimzi_ns")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub strimzi_operator_namespace: String,
    /// Namespace of the Prometheus that scrapes the programs' metrics ports; none: no scraping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub metrics_namespace: Option<String>,
}

impl Default for NetworkPoliciesSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            ingress_controller_namespace: default_ingress_controller_ns(),
            strimzi_operator_namespace: default_strimzi_ns(),
            metrics_namespace: None,
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_ingress_controller_ns() -> String {
    "nginx-ingress".into()
}
fn default_strimzi_ns() -> String {
    "strimzi-system".into()
}
