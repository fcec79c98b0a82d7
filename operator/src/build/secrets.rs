//! Secrets: the registry pull Secret copied into every namespace that pulls from Zot, and the
//! Valkey password (managed: its home in the valkey namespace, mounted into the VMs; always, when
//! there is a password: a copy in the ingest namespace for the consumer).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;

use super::{meta, Child, ClusterInputs};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

/// Shown by `render` where a value is only known in the cluster.
pub const OFFLINE_PASSWORD: &str = "<read from the password Secret at reconcile time>";
const ANNOTATION_COPIED_FROM: &str = "blackfriday.dev/copied-from";

pub fn build(p: &ValidPipeline, inputs: &ClusterInputs) -> Vec<Child> {
    let mut children = Vec::new();

    if let Some(source) = &p.spec.registry.pull_secret {
        let namespaces = [
            Some(p.ns_ingest()),
            p.valkey_managed().then(|| p.ns_valkey()),
            p.kafka_managed().then(|| p.ns_kafka()),
        ];
        for ns in namespaces.into_iter().flatten() {
            let mut metadata = meta(p, ns, names::PULL_SECRET, "registry");
            metadata.annotations = Some(BTreeMap::from([(
                ANNOTATION_COPIED_FROM.to_string(),
                format!("{}/{}", source.namespace, source.name),
            )]));
            let secret = Secret {
                metadata,
                type_: Some(
                    inputs
                        .pull_secret
                        .as_ref()
                        .map_or("kubernetes.io/dockerconfigjson".into(), |s| s.type_.clone()),
                ),
                data: inputs.pull_secret.as_ref().map(|s| s.data.clone()),
                ..Default::default()
            };
            children.push(Child::new(ChildKind::Secret, &secret));
        }
    }

    if !has_valkey_password(p, inputs) {
        return children;
    }
    let password = valkey_password(inputs);
    let key = &p.spec.valkey.password_secret.key;
    let homes = [
        p.valkey_managed().then(|| p.ns_valkey()),
        Some(p.ns_ingest()),
    ];
    for ns in homes.into_iter().flatten() {
        let secret = Secret {
            metadata: meta(p, ns, &p.spec.valkey.password_secret.name, names::VALKEY),
            type_: Some("Opaque".into()),
            data: Some(BTreeMap::from([(
                key.clone(),
                ByteString(password.as_bytes().to_vec()),
            )])),
            ..Default::default()
        };
        children.push(Child::new(ChildKind::Secret, &secret));
    }
    children
}

/// Whether the programs get a Valkey password: not for an external server without AUTH, nor
/// while the external password Secret is missing (the consumer's copy would hold nothing).
pub fn has_valkey_password(p: &ValidPipeline, inputs: &ClusterInputs) -> bool {
    p.valkey_password_source().is_some() && !inputs.valkey_password_missing
}

pub fn valkey_password(inputs: &ClusterInputs) -> &str {
    inputs
        .valkey_password
        .as_deref()
        .unwrap_or(OFFLINE_PASSWORD)
}

#[cfg(test)]
mod tests {
    use crate::build::testing::*;

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
}
