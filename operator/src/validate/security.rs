//! Checks of `spec.networkPolicies` the schema cannot make: the platform namespaces it names must
//! be names, and none may be one of the namespaces the operator owns (their default deny would
//! then cut the ingress controller, Strimzi's operator or Prometheus off from the cluster).

use super::{is_dns_label, FieldError};
use crate::crd::BlackFridayPipelineSpec;

pub fn check(spec: &BlackFridayPipelineSpec) -> Vec<FieldError> {
    let np = &spec.network_policies;
    let owned = [
        &spec.namespaces.ingest,
        &spec.namespaces.kafka,
        &spec.namespaces.valkey,
    ];
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: format!("spec.networkPolicies.{field}"),
            message,
        })
    };
    for (field, value) in [
        (
            "ingressControllerNamespace",
            Some(&np.ingress_controller_namespace),
        ),
        (
            "strimziOperatorNamespace",
            Some(&np.strimzi_operator_namespace),
        ),
        ("metricsNamespace", np.metrics_namespace.as_ref()),
    ] {
        let Some(value) = value else { continue };
        if !is_dns_label(value) {
            error(field, "must be a namespace name (a DNS label)".into());
        } else if np.enabled && owned.contains(&value) {
            error(
                field,
                format!("must not be {value}, a namespace the operator owns and closes with a default deny"),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass() {
        assert_eq!(check(&BlackFridayPipelineSpec::default()), vec![]);
    }

    #[test]
    fn a_platform_namespace_inside_our_own_is_refused_by_field() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.network_policies.ingress_controller_namespace = "ingest".into();
        spec.network_policies.metrics_namespace = Some("Not_A_Name".into());
        let errors = check(&spec);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.networkPolicies.ingressControllerNamespace",
                "spec.networkPolicies.metricsNamespace"
            ]
        );
        assert!(errors[0].message.contains("ingest"), "{}", errors[0]);
        // With the policies off, no default deny is rendered, so the overlap is harmless.
        spec.network_policies.enabled = false;
        spec.network_policies.metrics_namespace = None;
        assert_eq!(check(&spec), vec![]);
    }

    #[test]
    fn validate_spec_reports_them() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.network_policies.strimzi_operator_namespace = "kafka".into();
        let invalid = super::super::validate_spec("bf", None, None, &spec).unwrap_err();
        assert!(
            invalid
                .0
                .iter()
                .any(|e| e.field == "spec.networkPolicies.strimziOperatorNamespace"),
            "{invalid}"
        );
    }
}
