//! Pod Security Admission labels of the namespaces the operator owns (the API server's built-in
//! PodSecurity admission enforces them on every pod created there):
//!
//! - ingest: `restricted`. Our Deployments meet it (non-root uid, no privilege escalation, all
//!   capabilities dropped, RuntimeDefault seccomp: build/workloads.rs).
//! - kafka: `restricted`. Strimzi's default (baseline) pod security provider would make
//!   baseline pods, so the operator sets every container Strimzi runs for our Kafka (brokers,
//!   their init container, the topic and user operators) to the container security context of
//!   Strimzi's own `restricted` provider through the `template` fields (build/kafka.rs), which
//!   Strimzi applies as given under any provider.
//! - valkey: `privileged`, what KubeVirt itself sets on a VM namespace when it manages the label
//!   (kubevirt/kubevirt PR #8529 "Integrate with Pod security": virt-launcher pods are still a
//!   privileged workload); `baseline` is audited so the audit log shows what exceeds it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::validate::ValidPipeline;

pub const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
pub const WARN: &str = "pod-security.kubernetes.io/warn";
pub const AUDIT: &str = "pod-security.kubernetes.io/audit";

/// The PSA labels of one of our namespaces (none for a namespace that is not ours).
pub fn labels(p: &ValidPipeline, namespace: &str) -> BTreeMap<String, String> {
    let (enforce, warn, audit) = if namespace == p.ns_ingest() {
        ("restricted", Some("restricted"), "restricted")
    } else if namespace == p.ns_kafka() {
        ("restricted", Some("restricted"), "restricted")
    } else if namespace == p.ns_valkey() {
        ("privileged", None, "baseline")
    } else {
        return BTreeMap::new();
    };
    let mut labels = BTreeMap::from([
        (ENFORCE.to_string(), enforce.to_string()),
        (AUDIT.to_string(), audit.to_string()),
    ]);
    if let Some(warn) = warn {
        labels.insert(WARN.to_string(), warn.to_string());
    }
    labels
}

/// The container security context of Strimzi's `restricted` pod security provider
/// (strimzi-kafka-operator `RestrictedPodSecurityProvider#createRestrictedContainerSecurityContext`),
/// which the operator sets on every Strimzi container through the `template` fields.
pub fn strimzi_restricted_container() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"},
        "capabilities": {"drop": ["ALL"]}
    })
}
