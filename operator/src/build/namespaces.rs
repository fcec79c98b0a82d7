//! The tier namespaces (ingest, kafka, valkey). Grafana's belongs to its Helm release.

use k8s_openapi::api::core::v1::Namespace;
use kube::core::ObjectMeta;

use super::Child;
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

pub fn build(p: &ValidPipeline) -> Vec<Child> {
    [p.ns_ingest(), p.ns_kafka(), p.ns_valkey()]
        .into_iter()
        .map(|ns| {
            let namespace = Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.to_string()),
                    labels: Some(names::component_labels(&p.name, "namespace")),
                    ..Default::default()
                },
                ..Default::default()
            };
            Child::new(ChildKind::Namespace, &namespace)
        })
        .collect()
}
