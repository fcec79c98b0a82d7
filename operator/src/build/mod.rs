//! Pure builders: a checked pipeline (+ the few values read from the cluster) → every child
//! object the operator applies. One module per child kind; this module only gathers them and
//! stamps what every child shares (ownership labels, ownerReference).

mod autoscaling;
mod grafana;
mod ingress;
mod kafka;
mod kafka_auth;
mod namespaces;
pub mod network_policies;
pub mod pod_security;
mod secrets;
mod service_accounts;
mod valkey;
mod valkey_cloud_init;
mod workloads;

#[cfg(test)]
mod testing;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::core::{DynamicObject, ObjectMeta};
use kube::Resource;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crd::{BlackFridayPipeline, DataRetention};
use crate::kinds::{ChildKey, ChildKind};
use crate::names;
use crate::validate::ValidPipeline;

pub use kafka_auth::{
    ca_source as kafka_ca_source, login as kafka_login,
    sasl_password_source as kafka_sasl_password_source, strimzi_port as kafka_strimzi_port,
    users as kafka_users, Fetched, KafkaLogin, KafkaLoginInputs,
};
pub use valkey_cloud_init::cloud_init_user_data;

/// Values the builders need that live in the cluster, read by the reconciler before building
/// (`None` offline: `render` then shows placeholders).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterInputs {
    /// The registry pull Secret's `type` and `data` (base64 values), copied into every namespace.
    pub pull_secret: Option<CopiedSecret>,
    /// The Valkey password (existing or freshly generated; external: read from its Secret).
    pub valkey_password: Option<String>,
    /// The external Valkey's password Secret (or its key) does not exist: no copy is written.
    pub valkey_password_missing: bool,
    /// The Kafka CA certificate and external SASL password (docs/kafka-auth.md).
    pub kafka: KafkaLoginInputs,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CopiedSecret {
    pub type_: String,
    pub data: BTreeMap<String, k8s_openapi::ByteString>,
}

/// One child object, typed by kind.
#[derive(Clone, Debug)]
pub struct Child {
    pub kind: ChildKind,
    pub object: DynamicObject,
}

impl Child {
    /// Wrap a typed object (k8s-openapi or our foreign structs) as a child of `kind`.
    pub fn new(kind: ChildKind, object: &impl Serialize) -> Self {
        let value = serde_json::to_value(object).expect("child objects always serialize");
        let mut object: DynamicObject =
            serde_json::from_value(value).expect("child objects have metadata");
        // apiVersion/kind come from the kind table so foreign objects built from json! are uniform.
        let ar = kind.api_resource();
        object.types = Some(kube::core::TypeMeta {
            api_version: ar.api_version,
            kind: ar.kind,
        });
        Self { kind, object }
    }

    pub fn name(&self) -> &str {
        self.object.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.object.metadata.namespace.as_deref()
    }

    /// The key apply, prune and the conditions name this child by.
    pub fn key(&self) -> ChildKey {
        ChildKey::new(self.kind, self.namespace(), self.name())
    }
}

/// Everything the pipeline wants to exist, in apply order.
#[derive(Clone, Debug)]
pub struct Desired {
    pub children: Vec<Child>,
}

impl Desired {
    pub fn find(&self, kind: ChildKind, namespace: Option<&str>, name: &str) -> Option<&Child> {
        self.children
            .iter()
            .find(|c| c.kind == kind && c.namespace() == namespace && c.name() == name)
    }

    pub fn of_kind(&self, kind: ChildKind) -> impl Iterator<Item = &Child> {
        self.children.iter().filter(move |c| c.kind == kind)
    }

    /// Multi-document YAML of every child (the `render` output).
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            out.push_str("---\n");
            let yaml = serde_yaml::to_string(&child.object).expect("children serialize");
            out.push_str(&crate::yaml::yaml11_safe(&yaml));
        }
        out
    }
}

/// Build the whole desired set.
pub fn desired(p: &ValidPipeline, inputs: &ClusterInputs) -> Desired {
    let mut children = Vec::new();
    children.extend(namespaces::build(p));
    children.extend(service_accounts::build(p));
    children.extend(secrets::build(p, inputs));
    children.extend(grafana::build(p, inputs));
    children.extend(valkey::cloud_init_secrets(p));
    children.extend(valkey::persistent_volume_claims(p));
    children.extend(workloads::services(p));
    children.extend(valkey::services(p));
    children.extend(workloads::deployments(p, inputs));
    children.extend(autoscaling::horizontal(p));
    children.extend(ingress::build(p));
    children.extend(kafka::build(p));
    children.extend(kafka_auth::build(p, inputs));
    children.extend(valkey::virtual_machines(p));
    children.extend(autoscaling::vertical(p));
    network_policies::restrict_kafka_listeners(p, &mut children);
    let policies = network_policies::build(p, &children);
    children.extend(policies);
    children.sort_by_key(|c| c.kind); // stable: keeps builder order within a kind
    for child in &mut children {
        stamp_ownership(p, child);
    }
    Desired { children }
}

/// Children that must outlive the pipeline when `valkey.storage.onDelete` is Retain: the data
/// PVCs and the password they were written with. (The namespace holding them outlives every
/// pipeline anyway: namespaces belong to the install, see `stamp_ownership`.)
pub fn is_retained(
    p: &ValidPipeline,
    kind: ChildKind,
    namespace: Option<&str>,
    name: &str,
) -> bool {
    if p.spec.valkey.storage.on_delete != DataRetention::Retain {
        return false;
    }
    match kind {
        ChildKind::PersistentVolumeClaim => true,
        ChildKind::Secret => {
            namespace == Some(p.ns_valkey()) && name == p.spec.valkey.password_secret.name
        }
        _ => false,
    }
}

fn stamp_ownership(p: &ValidPipeline, child: &mut Child) {
    // Namespaces belong to the install (they hold its RoleBinding for the operator): labelled,
    // never owned, so deleting the pipeline does not take the operator's rights with it.
    let retained = child.kind == ChildKind::Namespace
        || is_retained(p, child.kind, child.namespace(), child.name());
    let meta = &mut child.object.metadata;
    meta.labels
        .get_or_insert_with(Default::default)
        .extend(names::ownership_labels(&p.name));
    if let (Some(uid), false) = (&p.uid, retained) {
        meta.owner_references = Some(vec![owner_reference(&p.name, uid)]);
    }
}

/// The pipeline as controller owner. A cluster-scoped owner may own namespaced children in any
/// namespace, so the garbage collector cleans up everything when the pipeline goes.
pub fn owner_reference(name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: BlackFridayPipeline::api_version(&()).into_owned(),
        kind: BlackFridayPipeline::kind(&()).into_owned(),
        name: name.to_string(),
        uid: uid.to_string(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Metadata of a namespaced child with component labels.
pub(crate) fn meta(p: &ValidPipeline, namespace: &str, name: &str, component: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
        labels: Some(names::component_labels(&p.name, component)),
        ..Default::default()
    }
}

/// A short, stable digest of the config a pod reads; it goes on the pod template so a change
/// rolls the pods (env changes roll them anyway; this also covers referenced Secrets).
pub(crate) fn config_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::testing::{build, consumer_env, datasource_yaml, external_valkey_spec, get};
    use super::*;
    use crate::crd::BlackFridayPipelineSpec;

    #[test]
    fn every_child_but_the_namespaces_is_owned_when_the_pipeline_has_a_uid() {
        let d = build(&BlackFridayPipelineSpec::default(), Some("u-1"));
        for child in &d.children {
            if child.kind == ChildKind::Namespace {
                // The install's: deleting the pipeline must not delete the operator's grants.
                assert!(child.object.metadata.owner_references.is_none());
                continue;
            }
            let owner = &child.object.metadata.owner_references.as_ref().unwrap()[0];
            assert_eq!(
                (owner.uid.as_str(), owner.controller),
                ("u-1", Some(true)),
                "{}",
                child.key()
            );
        }
    }

    #[test]
    fn retain_keeps_data_pvcs_password_and_namespace_unowned() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.storage.on_delete = DataRetention::Retain;
        let d = build(&spec, Some("u-1"));
        for (kind, ns, name) in [
            (
                ChildKind::PersistentVolumeClaim,
                Some("valkey"),
                "valkey-data-0",
            ),
            (ChildKind::Secret, Some("valkey"), "valkey-auth"),
            (ChildKind::Namespace, None, "valkey"),
        ] {
            assert!(
                get(&d, kind, ns, name)
                    .object
                    .metadata
                    .owner_references
                    .is_none(),
                "{name}"
            );
        }
        // The consumer's copy and the VMs still go with the pipeline.
        assert!(get(&d, ChildKind::Secret, Some("ingest"), "valkey-auth")
            .object
            .metadata
            .owner_references
            .is_some());
        assert!(
            get(&d, ChildKind::VirtualMachine, Some("valkey"), "valkey-0")
                .object
                .metadata
                .owner_references
                .is_some()
        );
    }

    #[test]
    fn external_valkey_creates_nothing_valkey_side() {
        let d = build(&external_valkey_spec(true), Some("u-1"));
        for child in &d.children {
            assert_ne!(child.namespace(), Some("valkey"), "{}", child.key());
        }
        assert_eq!(d.of_kind(ChildKind::VirtualMachine).count(), 0);
        assert_eq!(d.of_kind(ChildKind::PersistentVolumeClaim).count(), 0);
        assert!(d.find(ChildKind::Namespace, None, "valkey").is_none());
        assert!(d.find(ChildKind::Namespace, None, "ingest").is_some());
        // The consumer writes to the primary with the password copied from the user's Secret.
        assert_eq!(
            consumer_env(&d, "VALKEY_ADDR").unwrap()["value"],
            "primary.cache.example.com:6379"
        );
        assert_eq!(
            consumer_env(&d, "VALKEY_PASSWORD").unwrap()["valueFrom"]["secretKeyRef"]["name"],
            "valkey-auth"
        );
        let copy = &get(&d, ChildKind::Secret, Some("ingest"), "valkey-auth").object;
        assert_eq!(copy.data["data"]["password"], "czNjcmV0"); // base64("s3cret")
                                                               // Grafana reads from the reader endpoint.
        let yaml = datasource_yaml(&d);
        assert!(
            yaml.contains("url: redis://reader.cache.example.com:6379"),
            "{yaml}"
        );
        assert!(yaml.contains("password: s3cret"), "{yaml}");
    }

    #[test]
    fn external_valkey_without_auth_hands_out_no_password() {
        let d = build(&external_valkey_spec(false), None);
        assert!(consumer_env(&d, "VALKEY_PASSWORD").is_none());
        assert!(consumer_env(&d, "VALKEY_ADDR").is_some());
        assert!(d
            .find(ChildKind::Secret, Some("ingest"), "valkey-auth")
            .is_none());
        let yaml = datasource_yaml(&d);
        assert!(!yaml.contains("secureJsonData"), "{yaml}");
    }
}
