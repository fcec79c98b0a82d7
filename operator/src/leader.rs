//! Optional leader election on a `coordination.k8s.io` Lease, so more than one operator replica
//! can run with exactly one reconciling. The holder renews every `renew`; a Lease not renewed for
//! `duration` may be taken over. A leader that cannot renew stops (and the process exits), so two
//! leaders never overlap for longer than the lease duration.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::PostParams;
use kube::core::ObjectMeta;
use kube::{Api, Client};

#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// This replica's identity (its pod name).
    pub identity: String,
    pub duration: Duration,
    pub renew: Duration,
}

impl LeaseConfig {
    pub fn new(namespace: &str, identity: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: crate::names::MANAGER.into(),
            identity: identity.into(),
            duration: Duration::from_secs(15),
            renew: Duration::from_secs(5),
        }
    }
}

fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// One attempt: `Ok(true)` when this identity holds the Lease afterwards.
pub async fn try_acquire_or_renew(client: &Client, cfg: &LeaseConfig) -> Result<bool, kube::Error> {
    let api: Api<Lease> = Api::namespaced(client.clone(), &cfg.namespace);
    let now = Timestamp::now();
    let duration_secs = cfg.duration.as_secs() as i32;
    match api.get_opt(&cfg.name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(cfg.name.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(cfg.identity.clone()),
                    lease_duration_seconds: Some(duration_secs),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(e) if conflict(&e) => Ok(false),
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            let spec = lease.spec.clone().unwrap_or_default();
            let mine = spec.holder_identity.as_deref() == Some(cfg.identity.as_str());
            let free = spec.holder_identity.as_deref().is_none_or(str::is_empty);
            let held_for = SignedDuration::from_secs(i64::from(
                spec.lease_duration_seconds.unwrap_or(duration_secs),
            ));
            let expired = spec
                .renew_time
                .as_ref()
                .is_none_or(|t| t.0 + held_for < now);
            if !(mine || free || expired) {
                return Ok(false);
            }
            let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!mine);
            lease.spec = Some(LeaseSpec {
                holder_identity: Some(cfg.identity.clone()),
                lease_duration_seconds: Some(duration_secs),
                acquire_time: if mine {
                    spec.acquire_time
                } else {
                    Some(MicroTime(now))
                },
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(transitions),
                ..Default::default()
            });
            // replace carries the resourceVersion we read: a concurrent taker gets 409.
            match api.replace(&cfg.name, &PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(e) if conflict(&e) => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

/// Give the Lease up (on graceful shutdown) so another replica takes over at once.
pub async fn release(client: &Client, cfg: &LeaseConfig) -> Result<(), kube::Error> {
    let api: Api<Lease> = Api::namespaced(client.clone(), &cfg.namespace);
    if let Some(mut lease) = api.get_opt(&cfg.name).await? {
        if let Some(spec) = lease.spec.as_mut() {
            if spec.holder_identity.as_deref() == Some(cfg.identity.as_str()) {
                spec.holder_identity = None;
                spec.renew_time = None;
                api.replace(&cfg.name, &PostParams::default(), &lease)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Wait until this identity holds the Lease (or `stop` resolves: then `false`).
pub async fn acquire(
    client: &Client,
    cfg: &LeaseConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> bool {
    loop {
        match try_acquire_or_renew(client, cfg).await {
            Ok(true) => return true,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "leader election: cannot read or write the Lease"),
        }
        tokio::select! {
            _ = tokio::time::sleep(cfg.renew) => {}
            _ = stop.wait_for(|s| *s) => return false,
        }
    }
}

/// Renew until a renewal fails for longer than the lease duration; returns when leadership is lost.
pub async fn hold(client: &Client, cfg: &LeaseConfig) {
    let mut last_renewal = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(cfg.renew).await;
        match try_acquire_or_renew(client, cfg).await {
            Ok(true) => last_renewal = tokio::time::Instant::now(),
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "leader election: renewal failed");
                // Stop a renew period early: a successor may take over at `duration`.
                if last_renewal.elapsed() >= cfg.duration.saturating_sub(cfg.renew) {
                    return;
                }
            }
        }
    }
}
