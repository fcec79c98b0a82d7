//! Pure builders: a checked pipeline (+ the few values read from the cluster) → every child
//! object the operator applies. One module per child kind; this module only gathers them and
//! stamps what every child shares (ownership labels, ownerReference).

mod autoscaling;
mod grafana;
mod ingress;
mod kafka;
mod kafka_auth;
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

    /// `Kind/namespace/name`, how tests and logs name a child.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.kind.kind(),
            self.namespace().unwrap_or("-"),
            self.name()
        )
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
    children.sort_by_key(|c| c.kind); // stable: keeps builder order within a kind
    for child in &mut children {
        stamp_ownership(p, child);
    }
    Desired { children }
}

/// Children that must outlive the pipeline when `valkey.storage.onDelete` is Retain: the data
/// PVCs, the password they were written with, and the namespace that holds them (deleting a
/// namespace deletes its PVCs).
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
        ChildKind::Namespace => name == p.ns_valkey(),
        ChildKind::Secret => {
            namespace == Some(p.ns_valkey()) && name == p.spec.valkey.password_secret.name
        }
        _ => false,
    }
}

fn stamp_ownership(p: &ValidPipeline, child: &mut Child) {
    let retained = is_retained(p, child.kind, child.namespace(), child.name());
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
    use super::*;
    use crate::crd::{
        BlackFridayPipelineSpec, IngressTls, KafkaMode, KafkaStorageType, SecretRef,
        ValkeyDiskSource,
    };
    use crate::validate::validate_spec;

    fn build(spec: &BlackFridayPipelineSpec, uid: Option<&str>) -> Desired {
        let p = validate_spec("bf", uid.map(str::to_string), Some(1), spec).unwrap();
        desired(
            &p,
            &ClusterInputs {
                valkey_password: Some("s3cret".into()),
                ..Default::default()
            },
        )
    }

    fn get<'a>(d: &'a Desired, kind: ChildKind, ns: Option<&str>, name: &str) -> &'a Child {
        d.find(kind, ns, name)
            .unwrap_or_else(|| panic!("{kind:?} {ns:?}/{name} missing"))
    }

    #[test]
    fn every_child_is_owned_when_the_pipeline_has_a_uid() {
        let d = build(&BlackFridayPipelineSpec::default(), Some("u-1"));
        for child in &d.children {
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
    fn ingress_tls_and_class() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.ingress.host = "ventas.example.com".into();
        spec.ingress.class_name = "nginx-public".into();
        spec.ingress.tls = Some(IngressTls {
            secret_name: "ventas-tls".into(),
        });
        let d = build(&spec, None);
        let ingress = &get(&d, ChildKind::Ingress, Some("ingest"), "rust-api")
            .object
            .data["spec"];
        assert_eq!(ingress["ingressClassName"], "nginx-public");
        assert_eq!(ingress["tls"][0]["hosts"][0], "ventas.example.com");
        assert_eq!(
            ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"],
            8080
        );
        spec.ingress.enabled = false;
        assert_eq!(build(&spec, None).of_kind(ChildKind::Ingress).count(), 0);
    }

    #[test]
    fn kafka_objects_follow_the_spec() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.node_pool.replicas = 3;
        spec.kafka.node_pool.storage.type_ = KafkaStorageType::Ephemeral;
        spec.kafka.topic.replicas = 3;
        let d = build(&spec, None);
        let pool = &get(&d, ChildKind::KafkaNodePool, Some("kafka"), "dual-role").object;
        assert_eq!(
            pool.metadata.labels.as_ref().unwrap()["strimzi.io/cluster"],
            "blackfriday"
        );
        assert_eq!(
            pool.data["spec"]["roles"],
            serde_json::json!(["controller", "broker"])
        );
        assert_eq!(
            pool.data["spec"]["storage"]["volumes"][0]["type"],
            "ephemeral"
        );
        let kafka = &get(&d, ChildKind::Kafka, Some("kafka"), "blackfriday")
            .object
            .data["spec"]["kafka"];
        assert_eq!(kafka["config"]["min.insync.replicas"], 2);
        assert!(
            kafka.get("replicas").is_none(),
            "v1 keeps replicas on the node pool"
        );
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("k:9092".into());
        assert_eq!(build(&spec, None).of_kind(ChildKind::Kafka).count(), 0);
    }

    #[test]
    fn data_volume_disk_source_uses_a_template() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.disk.source = ValkeyDiskSource::DataVolume;
        let d = build(&spec, None);
        let vm = &get(&d, ChildKind::VirtualMachine, Some("valkey"), "valkey-1")
            .object
            .data["spec"];
        assert_eq!(
            vm["dataVolumeTemplates"][0]["metadata"]["name"],
            "valkey-root-1"
        );
        assert_eq!(
            vm["template"]["spec"]["volumes"][0]["dataVolume"]["name"],
            "valkey-root-1"
        );
        assert_eq!(vm["runStrategy"], "Always");
        assert_eq!(
            vm["template"]["spec"]["domain"]["devices"]["interfaces"][0]["masquerade"],
            serde_json::json!({})
        );
    }

    #[test]
    fn pull_secret_is_copied_and_referenced_only_when_configured() {
        let d = build(&BlackFridayPipelineSpec::default(), None);
        assert!(d
            .find(ChildKind::Secret, Some("ingest"), names::PULL_SECRET)
            .is_none());
        let mut spec = BlackFridayPipelineSpec::default();
        spec.registry.pull_secret = Some(SecretRef {
            name: "zot".into(),
            namespace: "ops".into(),
        });
        let d = build(&spec, None);
        for ns in ["ingest", "kafka", "valkey"] {
            assert!(
                d.find(ChildKind::Secret, Some(ns), names::PULL_SECRET)
                    .is_some(),
                "{ns}"
            );
        }
        let vm = &get(&d, ChildKind::VirtualMachine, Some("valkey"), "valkey-0")
            .object
            .data;
        assert_eq!(
            vm["spec"]["template"]["spec"]["volumes"][0]["containerDisk"]["imagePullSecret"],
            names::PULL_SECRET
        );
    }

    #[test]
    fn grafana_datasource_points_at_the_read_service_with_the_password() {
        let d = build(&BlackFridayPipelineSpec::default(), None);
        let secret = &get(
            &d,
            ChildKind::Secret,
            Some("grafana"),
            names::GRAFANA_DATASOURCE,
        )
        .object;
        assert_eq!(
            secret.metadata.labels.as_ref().unwrap()["grafana_datasource"],
            "1"
        );
        let encoded = secret.data["data"]["blackfriday-valkey.yaml"]
            .as_str()
            .unwrap();
        use base64::Engine as _;
        let yaml = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap();
        assert!(yaml.contains("uid: valkey"), "{yaml}");
        assert!(
            yaml.contains("url: redis://valkey-read.valkey.svc.cluster.local:6379"),
            "{yaml}"
        );
        assert!(yaml.contains("password: s3cret"), "{yaml}");
        let dashboard = &get(
            &d,
            ChildKind::ConfigMap,
            Some("grafana"),
            names::GRAFANA_DASHBOARD,
        )
        .object;
        assert_eq!(
            dashboard.metadata.labels.as_ref().unwrap()["grafana_dashboard"],
            "1"
        );
    }

    fn external_valkey_spec(password: bool) -> BlackFridayPipelineSpec {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.mode = crate::crd::ValkeyMode::External;
        spec.valkey.external = Some(crate::crd::ExternalValkeySpec {
            primary_address: "primary.cache.example.com:6379".into(),
            read_address: Some("reader.cache.example.com:6379".into()),
            password_secret: password.then(|| crate::crd::SecretKeyRef {
                name: "valkey-token".into(),
                namespace: "ops".into(),
                key: "token".into(),
            }),
        });
        spec.registry.pull_secret = Some(SecretRef {
            name: "zot".into(),
            namespace: "ops".into(),
        });
        spec
    }

    fn datasource_yaml(d: &Desired) -> String {
        let secret = &get(
            d,
            ChildKind::Secret,
            Some("grafana"),
            names::GRAFANA_DATASOURCE,
        )
        .object;
        use base64::Engine as _;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(
                    secret.data["data"]["blackfriday-valkey.yaml"]
                        .as_str()
                        .unwrap(),
                )
                .unwrap(),
        )
        .unwrap()
    }

    fn consumer_env(d: &Desired, name: &str) -> Option<serde_json::Value> {
        get(d, ChildKind::Deployment, Some("ingest"), names::CONSUMER)
            .object
            .data["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
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

    #[test]
    fn a_missing_external_password_is_not_copied() {
        let p = validate_spec("bf", None, Some(1), &external_valkey_spec(true)).unwrap();
        let d = desired(
            &p,
            &ClusterInputs {
                valkey_password_missing: true,
                ..Default::default()
            },
        );
        assert!(d
            .find(ChildKind::Secret, Some("ingest"), "valkey-auth")
            .is_none());
        // The consumer still names it: it must not start against the server without its password.
        assert!(consumer_env(&d, "VALKEY_PASSWORD").is_some());
        assert!(!datasource_yaml(&d).contains("secureJsonData"));
    }

    #[test]
    fn external_kafka_has_no_kafka_namespace() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("k:9092".into());
        let d = build(&spec, None);
        assert!(d.find(ChildKind::Namespace, None, "kafka").is_none());
        assert!(d.find(ChildKind::Namespace, None, "valkey").is_some());
    }

    #[test]
    fn a_rotated_password_rolls_the_consumer() {
        let p = validate_spec("bf", None, Some(1), &BlackFridayPipelineSpec::default()).unwrap();
        let hash = |password: &str| {
            let d = desired(
                &p,
                &ClusterInputs {
                    valkey_password: Some(password.into()),
                    ..Default::default()
                },
            );
            d.find(ChildKind::Deployment, Some("ingest"), names::CONSUMER)
                .unwrap()
                .object
                .data["spec"]["template"]["metadata"]["annotations"][names::ANNOTATION_CONFIG_HASH]
                .clone()
        };
        assert_ne!(hash("a"), hash("b"));
    }
}
