//! Delete children the spec no longer wants: list each kind by the ownership labels and delete
//! what is not in the desired set (e.g. Valkey 2 → 1 removes VM valkey-1 and, unless the data is
//! retained, its PVC). Kinds whose CRD is not installed are skipped. Only the namespaces the
//! install granted are listed (`Scope`: one list per kind and namespace, as the Roles allow), and
//! Namespaces are never deleted: the installer created them and keeps its RoleBinding in them.

use std::collections::BTreeSet;

use kube::api::{DeleteParams, ListParams};
use kube::Client;

use super::apply::api_for;
use super::discovery::Installed;
use crate::build::{is_retained, Desired};
use crate::error::{Error, Result};
use crate::kinds::{ChildKey, ChildKind};
use crate::names;
use crate::scope::Scope;
use crate::validate::ValidPipeline;

/// Returns the keys of the children it deleted.
pub async fn prune(
    client: &Client,
    scope: &Scope,
    p: &ValidPipeline,
    desired: &Desired,
    installed: &Installed,
) -> Result<Vec<ChildKey>> {
    let wanted: BTreeSet<ChildKey> = desired.children.iter().map(|c| c.key()).collect();
    let selector = ListParams::default().labels(&names::ownership_selector(&p.name));
    let mut deleted = Vec::new();
    let places = scope.namespaced();
    // Reverse apply order: VMs before their PVCs.
    for kind in ChildKind::ALL.into_iter().rev() {
        if !installed.serves(kind) {
            continue;
        }
        for (namespace, _) in places.iter().filter(|(_, k)| *k == kind) {
            let list = api_for(client, kind, Some(namespace))
                .list_metadata(&selector)
                .await
                .map_err(|source| Error::List {
                    kind: kind.kind(),
                    source,
                })?;
            deleted.extend(prune_listed(client, p, &wanted, kind, list.items).await?);
        }
    }
    Ok(deleted)
}

/// Delete the listed children of one kind that are not wanted (nor retained, nor going already).
async fn prune_listed(
    client: &Client,
    p: &ValidPipeline,
    wanted: &BTreeSet<ChildKey>,
    kind: ChildKind,
    items: Vec<kube::core::PartialObjectMeta<kube::core::DynamicObject>>,
) -> Result<Vec<ChildKey>> {
    let mut deleted = Vec::new();
    for item in items {
        let name = item.metadata.name.clone().unwrap_or_default();
        let namespace = item.metadata.namespace.clone();
        let key = ChildKey::new(kind, namespace.as_deref(), &name);
        if wanted.contains(&key) || item.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if is_retained(p, kind, namespace.as_deref(), &name) {
            continue;
        }
        match api_for(client, kind, namespace.as_deref())
            .delete(&name, &DeleteParams::background())
            .await
        {
            Ok(_) => deleted.push(key),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => return Err(Error::Prune { key, source }),
        }
    }
    Ok(deleted)
}
