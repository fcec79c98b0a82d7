//! Our one custom resource, `BlackFridayPipeline` (`blackfriday.dev/v1alpha1`, cluster-scoped).

mod kafka_auth;
mod spec;
mod status;

pub use kafka_auth::*;
pub use spec::*;
pub use status::BlackFridayPipelineStatus;

use kube::CustomResourceExt;

/// The CRD as YAML, exactly what `crds/blackfriday.dev_blackfridaypipelines.yaml` holds.
pub fn crd_yaml() -> String {
    let crd = BlackFridayPipeline::crd();
    let yaml = serde_yaml::to_string(&crd).expect("a CRD always serializes");
    format!("---\n{}", crate::yaml::yaml11_safe(&yaml))
}
