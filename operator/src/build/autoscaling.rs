//! HorizontalPodAutoscalers (autoscaling/v2, CPU utilization) and optional VPA objects.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use serde_json::json;

use super::{meta, Child};
use crate::crd::{AutoscalingSpec, ScalingBehaviorSpec, ScalingRulesSpec};
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
            behavior: bounds.behavior.as_ref().map(behavior),
        },
        status: None,
    };
    Child::new(ChildKind::HorizontalPodAutoscaler, &hpa)
}

/// The spec's `behavior`, field for field; what it leaves out the API server defaults.
fn behavior(spec: &ScalingBehaviorSpec) -> HorizontalPodAutoscalerBehavior {
    let rules = |r: &ScalingRulesSpec| HPAScalingRules {
        stabilization_window_seconds: r.stabilization_window_seconds,
        select_policy: r.select_policy.map(|s| s.as_str().to_string()),
        policies: r.policies.as_ref().map(|list| {
            list.iter()
                .map(|p| HPAScalingPolicy {
                    type_: p.type_.as_str().to_string(),
                    value: p.value,
                    period_seconds: p.period_seconds,
                })
                .collect()
        }),
        ..Default::default()
    };
    HorizontalPodAutoscalerBehavior {
        scale_up: spec.scale_up.as_ref().map(rules),
        scale_down: spec.scale_down.as_ref().map(rules),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{BlackFridayPipelineSpec, ScalingPolicySpec, ScalingPolicyType, SelectPolicy};
    use crate::validate::validate_spec;

    #[test]
    fn behavior_is_rendered_into_the_hpa_and_left_out_by_default() {
        let mut spec = BlackFridayPipelineSpec::default();
        let p = validate_spec("bf", None, None, &spec).unwrap();
        let rust_api = &horizontal(&p)[0];
        assert_eq!(rust_api.name(), names::RUST_API);
        assert!(rust_api.object.data["spec"].get("behavior").is_none());

        spec.rust_api.autoscaling.behavior = Some(ScalingBehaviorSpec {
            scale_up: Some(ScalingRulesSpec {
                select_policy: Some(SelectPolicy::Max),
                policies: Some(vec![ScalingPolicySpec {
                    type_: ScalingPolicyType::Pods,
                    value: 2,
                    period_seconds: 15,
                }]),
                ..Default::default()
            }),
            scale_down: Some(ScalingRulesSpec {
                stabilization_window_seconds: Some(30),
                ..Default::default()
            }),
        });
        let p = validate_spec("bf", None, None, &spec).unwrap();
        let hpas = horizontal(&p);
        assert_eq!(
            hpas[0].object.data["spec"]["behavior"],
            json!({
                "scaleUp": {"selectPolicy": "Max", "policies": [{"type": "Pods", "value": 2, "periodSeconds": 15}]},
                "scaleDown": {"stabilizationWindowSeconds": 30}
            })
        );
        // Only rust-api's HPA got it.
        assert!(hpas[1].object.data["spec"].get("behavior").is_none());
    }
}
