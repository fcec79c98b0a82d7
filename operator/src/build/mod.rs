//! Pure builders: a checked pipeline (+ the few values read from the cluster) → every child
//! object the operator applies. One module per child kind; this module only gathers them and
//! stamps what every child shares (ownership labels, ownerReference).

mod autoscaling;
mod grafana;
mod ingress;
mod kafka;
mod namespaces;
mod secrets;
mod service_accounts;
mod valkey;
mod valkey_cloud_init;
mod workloads;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::core::{DynamicObject, ObjectMeta};
use kube::Resource;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crd::{BlackFridayPipeline, DataRetention};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

pub use valkey_cloud_init::cloud_init_user_data;

/// Values the builders need that live in the cluster, read by the reconciler before building
/// (`None` offline: `render` then shows placeholders).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterInputs {
    /// The registry pull Secret's `type` and `data` (base64 values), copied into every namespace.
    pub pull_secret: Option<CopiedSecret>,
    /// The Valkey password (existing or freshly generated).
    pub valkey_password: Option<String>,
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
        let mut object: DynamicObject = serde_json::from_value(value).expect("child objects have metadata");
        // apiVersion/kind come from the kind table so foreign objects built from json! are uniform.
        let ar = kind.api_resource();
        object.types = Some(kube::core::TypeMeta { api_version: ar.api_version, kind: ar.kind });
        Self { kind, object }
    }

    pub fn name(&self) -> &str {
        self.object.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.object.metadata.namespace.as_deref()
    }

    /// `Kind/namespace/name`, how tests and logs name a child.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.kind.kind(), self.namespace().unwrap_or("-"), self.name())
    }
}

/// Everything the pipeline wants to exist, in apply order.
#[derive(Clone, Debug)]
pub struct Desired {
    pub children: Vec<Child>,
}

impl Desired {
    pub fn find(&self, kind: ChildKind, namespace: Option<&str>, name: &str) -> Option<&Child> {
        self.children.iter().find(|c| c.kind == kind && c.namespace() == namespace && c.name() == name)
    }

    pub fn of_kind(&self, kind: ChildKind) -> impl Iterator<Item = &Child> {
        self.children.iter().filter(move |c| c.kind == kind)
    }

    /// Multi-document YAML of every child (the `render` output).
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            out.push_str("---\n");
            out.push_str(&serde_yaml::to_string(&child.object).expect("children serialize"));
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
    children.extend(valkey::persistent_volume_claims(p));
    children.extend(workloads::services(p));
    children.extend(valkey::services(p));
    children.extend(workloads::deployments(p, inputs));
    children.extend(autoscaling::horizontal(p));
    children.extend(ingress::build(p));
    children.extend(kafka::build(p));
    children.extend(valkey::virtual_machines(p));
    children.extend(autoscaling::vertical(p));
    children.sort_by_key(|c| c.kind); // stable: keeps builder order within a kind
    for child in &mut children {
        stamp_ownership(p, child);
    }
    Desired { children }
}

/// Children that must outlive the pipeline when `valkey.storage.onDelete` is Retain: the data
/// PVCs, the password they were written with, and the namespace that holds them (deleting a
/// namespace deletes its PVCs).
pub fn is_retained(p: &ValidPipeline, kind: ChildKind, namespace: Option<&str>, name: &str) -> bool {
    if p.spec.valkey.storage.on_delete != DataRetention::Retain {
        return false;
    }
    match kind {
        ChildKind::PersistentVolumeClaim => true,
        ChildKind::Namespace => name == p.ns_valkey(),
        ChildKind::Secret => namespace == Some(p.ns_valkey()) && name == p.spec.valkey.password_secret.name,
        _ => false,
    }
}

fn stamp_ownership(p: &ValidPipeline, child: &mut Child) {
    let retained = is_retained(p, child.kind, child.namespace(), child.name());
    let meta = &mut child.object.metadata;
    meta.labels.get_or_insert_with(Default::default).extend(names::ownership_labels(&p.name));
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
