//! Server-side apply of every child: one field manager, force (we are the only writer of the
//! fields we set), strict field validation (an unknown field is an error, not silently dropped).

use kube::api::{Patch, PatchParams};
use kube::core::DynamicObject;
use kube::{Api, Client};

use crate::build::Child;
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
