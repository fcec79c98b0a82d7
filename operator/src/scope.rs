//! The namespaces the operator may work in, and what it may do in each: exactly what its install
//! granted (config/rbac, or the Helm chart's `tierNamespaces` and `grafanaNamespace`), told to the
//! operator by flags/env rendered from the same values. Nothing outside them is watched, listed
//! or written, so the operator needs no cluster-wide rights on any child kind
//! (docs/security.md, "Operator RBAC").
//!
//! A pipeline that names a namespace outside its scope is refused as a whole before anything is
//! applied, with the field named (`check`), rather than applied in part and failing with 403s.

use std::collections::BTreeSet;

use crate::crd::SecretKeyRef;
use crate::kinds::ChildKind;
use crate::validate::{FieldError, ValidPipeline};

/// The Condition/Event reason of a pipeline that names a namespace outside the scope.
pub const REASON: &str = "NamespaceNotManaged";

/// The default tier namespaces: the spec's defaults and config/rbac's.
pub const DEFAULT_TIERS: [&str; 3] = ["ingest", "kafka", "valkey"];
pub const DEFAULT_GRAFANA: &str = "grafana";
pub const DEFAULT_OWN: &str = "blackfriday-system";

/// The kinds the operator puts into Grafana's namespace (its sidecars load them from there).
pub const GRAFANA_KINDS: [ChildKind; 2] = [ChildKind::ConfigMap, ChildKind::Secret];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Created by the installer, each with a RoleBinding to the tier ClusterRole (every
    /// namespaced child kind); the operator labels them (patch by name) and never deletes them.
    pub tiers: BTreeSet<String>,
    /// Grafana's Helm release namespace: ConfigMaps and Secrets only.
    pub grafana: String,
    /// The operator's own namespace: Secrets read by name (a source Secret the spec names, such
    /// as the registry pull Secret), nothing else.
    pub own: String,
}

impl Default for Scope {
    fn default() -> Self {
        Self::new(DEFAULT_TIERS, DEFAULT_GRAFANA, DEFAULT_OWN)
    }
}

impl Scope {
    pub fn new<S: Into<String>>(
        tiers: impl IntoIterator<Item = S>,
        grafana: &str,
        own: &str,
    ) -> Self {
        Self {
            tiers: tiers.into_iter().map(Into::into).collect(),
            grafana: grafana.to_string(),
            own: own.to_string(),
        }
    }

    /// The namespaced child kinds the operator may list, watch and write in `namespace`.
    pub fn kinds_in(&self, namespace: &str) -> Vec<ChildKind> {
        if self.tiers.contains(namespace) {
            ChildKind::ALL
                .into_iter()
                .filter(|k| k.namespaced())
                .collect()
        } else if namespace == self.grafana {
            GRAFANA_KINDS.to_vec()
        } else {
            Vec::new()
        }
    }

    /// Every (namespace, kind) the operator watches and prunes, tiers first.
    pub fn namespaced(&self) -> Vec<(String, ChildKind)> {
        self.tiers
            .iter()
            .chain(std::iter::once(&self.grafana))
            .flat_map(|ns| self.kinds_in(ns).into_iter().map(move |k| (ns.clone(), k)))
            .collect()
    }

    /// Namespaces a source Secret may be read from.
    fn may_read_secrets_in(&self, namespace: &str) -> bool {
        self.tiers.contains(namespace) || namespace == self.grafana || namespace == self.own
    }

    /// Every namespace field of the spec that is outside the scope, named by its path.
    pub fn check(&self, p: &ValidPipeline) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let tiers = self.tiers.iter().cloned().collect::<Vec<_>>().join(", ");
        let tier_fields = [
            ("spec.namespaces.ingest", Some(p.ns_ingest())),
            (
                "spec.namespaces.kafka",
                p.kafka_managed().then(|| p.ns_kafka()),
            ),
            (
                "spec.namespaces.valkey",
                p.valkey_managed().then(|| p.ns_valkey()),
            ),
        ];
        for (field, namespace) in tier_fields {
            if let Some(ns) = namespace.filter(|ns| !self.tiers.contains(*ns)) {
                errors.push(FieldError {
                    field: field.into(),
                    message: format!(
                        "namespace {ns} is not one of the operator's tier namespaces ({tiers}): \
                         add it to the install (Helm value tierNamespaces, or config/rbac) or use one of those"
                    ),
                });
            }
        }
        if p.ns_grafana() != self.grafana {
            errors.push(FieldError {
                field: "spec.grafana.namespace".into(),
                message: format!(
                    "the operator may write only into Grafana's namespace {} (Helm value grafanaNamespace)",
                    self.grafana
                ),
            });
        }
        for (field, source) in secret_sources(p) {
            if let Some(source) = source.filter(|s| !self.may_read_secrets_in(&s.namespace)) {
                errors.push(FieldError {
                    field: format!("{field}.namespace"),
                    message: format!(
                        "the operator may not read Secrets in {}: put the Secret in {} or one of its tier namespaces ({tiers})",
                        source.namespace, self.own
                    ),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Every Secret outside the operator's own children that the spec tells it to read.
fn secret_sources(p: &ValidPipeline) -> Vec<(&'static str, Option<SecretKeyRef>)> {
    let spec = &p.spec;
    let as_key_ref = |r: &crate::crd::SecretRef| SecretKeyRef {
        name: r.name.clone(),
        namespace: r.namespace.clone(),
        key: String::new(),
    };
    vec![
        (
            "spec.registry.pullSecret",
            spec.registry.pull_secret.as_ref().map(as_key_ref),
        ),
        (
            "spec.valkey.external.passwordSecret",
            spec.valkey
                .external
                .as_ref()
                .and_then(|e| e.password_secret.clone()),
        ),
        (
            "spec.kafka.sasl.passwordSecret",
            spec.kafka.sasl.as_ref().map(|s| s.password_secret.clone()),
        ),
        (
            "spec.kafka.tls.caSecret",
            spec.kafka.tls.as_ref().and_then(|t| t.ca_secret.clone()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{desired, ClusterInputs};
    use crate::crd::{BlackFridayPipelineSpec, SecretRef};
    use crate::validate::validate_spec;

    fn sample() -> BlackFridayPipelineSpec {
        let text = include_str!("../../config/samples/pipeline.yaml");
        crate::render::parse_pipeline(text).unwrap().spec
    }

    fn fields(scope: &Scope, spec: &BlackFridayPipelineSpec) -> Vec<String> {
        let p = validate_spec("p", None, None, spec).unwrap();
        match scope.check(&p) {
            Ok(()) => vec![],
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn the_sample_fits_the_default_install_and_every_child_lands_where_it_may() {
        let scope = Scope::default();
        let mut variants = vec![sample()];
        let mut external = sample();
        external.kafka.mode = crate::crd::KafkaMode::External;
        external.kafka.bootstrap_servers = Some("k:9092".into());
        variants.push(external);
        variants.push(BlackFridayPipelineSpec::default());
        for spec in variants {
            assert_eq!(fields(&scope, &spec), Vec::<String>::new());
            let p = validate_spec("p", None, None, &spec).unwrap();
            for child in desired(&p, &ClusterInputs::default()).children {
                match child.namespace() {
                    // Namespaces: patched by name, only the tier namespaces.
                    None => assert!(scope.tiers.contains(child.name()), "{}", child.key()),
                    Some(ns) => assert!(
                        scope.kinds_in(ns).contains(&child.kind),
                        "{} is outside what the install grants",
                        child.key()
                    ),
                }
            }
        }
    }

    #[test]
    fn every_namespace_field_outside_the_scope_is_named() {
        let scope = Scope::default();
        let mut spec = sample();
        spec.namespaces.ingest = "team-a".into();
        spec.namespaces.valkey = "team-b".into();
        spec.grafana.namespace = "monitoring".into();
        spec.registry.pull_secret = Some(SecretRef {
            name: "zot-pull".into(),
            namespace: "kube-system".into(),
        });
        assert_eq!(
            fields(&scope, &spec),
            [
                "spec.namespaces.ingest",
                "spec.namespaces.valkey",
                "spec.grafana.namespace",
                "spec.registry.pullSecret.namespace"
            ]
        );
        // The same spec fits an install that grants those namespaces.
        let wider = Scope::new(["team-a", "kafka", "team-b"], "monitoring", "kube-system");
        assert_eq!(fields(&wider, &spec), Vec::<String>::new());
    }

    #[test]
    fn grafana_gets_only_configmaps_and_secrets_and_other_namespaces_nothing() {
        let scope = Scope::default();
        assert_eq!(scope.kinds_in("grafana"), GRAFANA_KINDS);
        assert!(scope.kinds_in("kube-system").is_empty());
        assert!(scope.kinds_in("blackfriday-system").is_empty());
        assert!(scope.kinds_in("ingest").contains(&ChildKind::Deployment));
        assert!(!scope.kinds_in("ingest").contains(&ChildKind::Namespace));
        assert_eq!(scope.namespaced().len(), 3 * 15 + 2);
    }
}
