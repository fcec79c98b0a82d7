//! Server-side apply of every child: one field manager, force (we are the only writer of the
//! fields we set), strict field validation (an unknown field is an error, not silently dropped).

use kube::api::{Patch, PatchParams};
use kube::core::DynamicObject;
use kube::{Api, Client};

use super::conditions::Observations;
use crate::build::Child;
use crate::error::Error;
use crate::kinds::ChildKind;
use crate::names::MANAGER;

pub fn params() -> PatchParams {
    PatchParams::apply(MANAGER).force().validation_strict()
}

pub fn api_for(client: &Client, kind: ChildKind, namespace: Option<&str>) -> Api<DynamicObject> {
    let ar = kind.api_resource();
    match (kind.namespaced(), namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    }
}

/// Apply one child; returns the object as stored (with its status, which conditions read).
pub async fn apply(client: &Client, child: &Child) -> Result<DynamicObject, kube::Error> {
    let api = api_for(client, child.kind, child.namespace());
    api.patch(child.name(), &params(), &Patch::Apply(&child.object))
        .await
}

/// Apply every child in order, recording each stored object or failure in `observations` (the
/// conditions read both). A failure does not stop the others; the first one is returned.
pub async fn apply_all<'a>(
    client: &Client,
    children: impl IntoIterator<Item = &'a Child>,
    observations: &mut Observations,
) -> Option<Error> {
    let mut first_error = None;
    for child in children {
        match apply(client, child).await {
            Ok(stored) => {
                observations.applied.insert(child.key(), stored);
            }
            Err(source) => {
                let message = match &source {
                    kube::Error::Api(status) => status.message.clone(),
                    other => other.to_string(),
                };
                observations.failed.insert(child.key(), message);
                first_error.get_or_insert(Error::Apply {
                    key: child.key(),
                    source,
                });
            }
        }
    }
    first_error
}
