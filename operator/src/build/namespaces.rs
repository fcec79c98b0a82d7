//! The tier namespaces: ingest always, kafka and valkey only while the operator runs that tier
//! (an external Kafka or Valkey leaves nothing to put there). Grafana's belongs to its Helm release.

use k8s_openapi::api::core::v1::Namespace;
use kube::core::ObjectMeta;

use super::Child;
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

pub fn build(p: &ValidPipeline) -> Vec<Child> {
    [
        Some(p.ns_ingest()),
        p.kafka_managed().then(|| p.ns_kafka()),
        p.valkey_managed().then(|| p.ns_valkey()),
    ]
    .into_iter()
    .flatten()
    .map(|ns| {
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(ns.to_string()),
                labels: Some({
                    let mut labels = names::component_labels(&p.name, "namespace");
                    labels.extend(super::pod_security::labels(p, ns));
                    labels
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        Child::new(ChildKind::Namespace, &namespace)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use crate::build::testing::*;

    #[test]
    fn external_kafka_has_no_kafka_namespace() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("k:9092".into());
        let d = build(&spec, None);
        assert!(d.find(ChildKind::Namespace, None, "kafka").is_none());
        assert!(d.find(ChildKind::Namespace, None, "valkey").is_some());
    }
}
