//! HorizontalPodAutoscalers (autoscaling/v2, CPU utilization) and optional VPA objects.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use serde_json::json;

use super::{meta, Child};
use crate::crd::AutoscalingSpec;
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::{Scaling, ValidPipeline};

fn hpa(p: &ValidPipeline, target: &str, bounds: &AutoscalingSpec) -> Child {
    let hpa = HorizontalPodAutoscaler {
        metadata: meta(p, p.ns_ingest(), target, target),
        spec: HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: target.to_string(),
            },
            min_replicas: Some(bounds.min_replicas),
            max_replicas: bounds.max_replicas,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(bounds.target_cpu_utilization_percentage),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            behavior: None,
        },
        status: None,
    };
    Child::new(ChildKind::HorizontalPodAutoscaler, &hpa)
}

/// rust-api always; grpc-client and the consumer unless they have fixed replicas.
pub fn horizontal(p: &ValidPipeline) -> Vec<Child> {
    let mut out = vec![hpa(p, names::RUST_API, &p.spec.rust_api.autoscaling)];
    for (target, scaling) in [
        (names::GRPC_CLIENT, &p.grpc_client_scaling),
        (names::CONSUMER, &p.consumer_scaling),
    ] {
        if let Scaling::Autoscaled(bounds) = scaling {
            out.push(hpa(p, target, bounds));
        }
    }
    out
}

/// VerticalPodAutoscalers for the Go tiers. `updateMode: Off` by default: recommendations only,
/// so they never fight the CPU HPAs.
pub fn vertical(p: &ValidPipeline) -> Vec<Child> {
    if !p.spec.vpa.enabled {
        return vec![];
    }
    [names::GRPC_CLIENT, names::GRPC_SERVER_1, names::GRPC_SERVER_2, names::CONSUMER]
        .into_iter()
        .map(|target| {
            let vpa = json!({
                "metadata": meta(p, p.ns_ingest(), target, target),
                "spec": {
                    "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                    "updatePolicy": {"updateMode": p.spec.vpa.update_mode.as_str()},
                    "resourcePolicy": {"containerPolicies": [{"containerName": target, "controlledResources": ["cpu", "memory"]}]}
                }
            });
            Child::new(ChildKind::VerticalPodAutoscaler, &vpa)
        })
        .collect()
}
