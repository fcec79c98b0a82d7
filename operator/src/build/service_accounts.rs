//! One ServiceAccount per program, carrying the registry pull Secret so every pod can pull
//! from Zot even without naming it.

use k8s_openapi::api::core::v1::{LocalObjectReference, ServiceAccount};

use super::{meta, Child};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

/// The programs that run as pods, each with its own identity.
pub const PROGRAMS: [&str; 4] = [
    names::RUST_API,
    names::GRPC_CLIENT,
    names::GRPC_SERVER_IMAGE,
    names::CONSUMER,
];

pub fn build(p: &ValidPipeline) -> Vec<Child> {
    PROGRAMS
        .into_iter()
        .map(|program| {
            let account = ServiceAccount {
                metadata: meta(p, p.ns_ingest(), program, program),
                image_pull_secrets: pull_secrets(p),
                // The programs never call the Kubernetes API.
                automount_service_account_token: Some(false),
                ..Default::default()
            };
            Child::new(ChildKind::ServiceAccount, &account)
        })
        .collect()
}

/// The copied pull Secret, if the registry needs one.
pub fn pull_secrets(p: &ValidPipeline) -> Option<Vec<LocalObjectReference>> {
    p.spec.registry.pull_secret.as_ref().map(|_| {
        vec![LocalObjectReference {
            name: names::PULL_SECRET.to_string(),
        }]
    })
}
