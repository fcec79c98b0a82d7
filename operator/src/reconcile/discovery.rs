//! Which platform add-ons are installed, asked of the API server's discovery per reconcile (a
//! handful of cheap GETs), so installing Strimzi or KubeVirt later is picked up without a restart.

use std::collections::BTreeSet;

use kube::Client;

use crate::error::{Error, Result};
use crate::kinds::{ChildKind, Provider};

/// The providers whose every kind we use is served.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Installed(pub BTreeSet<Provider>);

impl Installed {
    pub fn has(&self, provider: Provider) -> bool {
        self.0.contains(&provider)
    }

    /// Whether the API server can take objects of `kind`.
    pub fn serves(&self, kind: ChildKind) -> bool {
        kind.provider().is_none_or(|p| self.has(p))
    }

    pub fn all() -> Self {
        Self(
            [
                Provider::Strimzi,
                Provider::KubeVirt,
                Provider::Cdi,
                Provider::Vpa,
            ]
            .into(),
        )
    }
}

/// The group/version and plural names a provider must serve.
pub fn requirements(provider: Provider) -> (&'static str, &'static [&'static str]) {
    match provider {
        Provider::Strimzi => (
            "kafka.strimzi.io/v1",
            &["kafkas", "kafkanodepools", "kafkatopics", "kafkausers"],
        ),
        Provider::KubeVirt => ("kubevirt.io/v1", &["virtualmachines"]),
        Provider::Cdi => ("cdi.kubevirt.io/v1beta1", &["datavolumes"]),
        Provider::Vpa => ("autoscaling.k8s.io/v1", &["verticalpodautoscalers"]),
    }
}

pub async fn installed(client: &Client) -> Result<Installed> {
    let mut found = BTreeSet::new();
    for provider in [
        Provider::Strimzi,
        Provider::KubeVirt,
        Provider::Cdi,
        Provider::Vpa,
    ] {
        let (api_version, plurals) = requirements(provider);
        if serves(client, api_version, plurals).await? {
            found.insert(provider);
        }
    }
    Ok(Installed(found))
}

/// Whether `api_version` (e.g. `kubevirt.io/v1`) is served with every resource in `plurals`.
pub async fn serves(client: &Client, api_version: &str, plurals: &[&str]) -> Result<bool> {
    match client.list_api_group_resources(api_version).await {
        Ok(list) => Ok(plurals
            .iter()
            .all(|plural| list.resources.iter().any(|r| r.name == *plural))),
        // 404: the group/version is not served at all.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(source) => Err(Error::Discovery {
            api_version: api_version.into(),
            source,
        }),
    }
}
