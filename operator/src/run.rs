//! `run`: the controller plus the admin server, stopped gracefully on SIGTERM/Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use kube::api::ListParams;
use kube::core::{DeserializeGuard, DynamicObject};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{watcher, Controller};
use kube::{Api, Client, ResourceExt};
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::admin::{router, AdminState};
use crate::crd::BlackFridayPipeline;
use crate::events::Publisher;
use crate::kinds::{ChildKind, Provider};
use crate::leader::{self, LeaseConfig};
use crate::metrics::Metrics;
use crate::names;
use crate::reconcile::{discovery, error_policy, reconcile, Context, Resync};
use crate::scope::{self, Scope};

/// How to install our CRD, from the repository root; the start-up error quotes it and
/// `operator/tests/cluster.rs` runs exactly this with kubectl against the bench.
pub const INSTALL_CRD: &str = "kubectl apply -k crds/";

#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Address of the admin server (/healthz, /readyz, /metrics).
    #[arg(long, env = "BF_ADMIN_ADDR", default_value = "0.0.0.0:8080")]
    pub admin_addr: SocketAddr,
    /// Reconcile only while holding the Lease `blackfriday-operator` (for more than one replica).
    #[arg(long, env = "BF_LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    /// Namespace of the Lease (the operator's own).
    #[arg(long, env = "POD_NAMESPACE", default_value = "blackfriday-system")]
    pub lease_namespace: String,
    /// This replica's identity in the Lease.
    #[arg(long, env = "POD_NAME", default_value = "blackfriday-operator")]
    pub identity: String,
    /// The tier namespaces the install created and granted (Helm value `tierNamespaces`); the
    /// operator watches, writes and prunes children only there (and in Grafana's namespace).
    #[arg(long, env = "BF_TIER_NAMESPACES", value_delimiter = ',', default_values_t = scope::DEFAULT_TIERS.map(String::from))]
    pub tier_namespaces: Vec<String>,
    /// Grafana's release namespace, where the install lets the operator write ConfigMaps and
    /// Secrets (Helm value `grafanaNamespace`).
    #[arg(long, env = "BF_GRAFANA_NAMESPACE", default_value = scope::DEFAULT_GRAFANA)]
    pub grafana_namespace: String,
}

impl RunArgs {
    /// What the install granted, as the operator was told (its own namespace is the Lease's).
    pub fn scope(&self) -> Scope {
        Scope::new(
            self.tier_namespaces
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty()),
            &self.grafana_namespace,
            &self.lease_namespace,
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot build a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    #[error("the BlackFridayPipeline CRD is not served (install it from the repository root: {INSTALL_CRD}, or everything with kubectl apply -k config/default): {0}")]
    CrdMissing(#[source] kube::Error),
    #[error("discovery failed: {0}")]
    Discovery(#[from] crate::error::Error),
}

pub fn main(args: RunArgs) -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,kube=warn".into()),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            info!("shutdown signal received; draining");
            let _ = stop_tx.send(true);
        });
        let client = match Client::try_default().await {
            Ok(c) => c,
            Err(e) => {
                error!("{}", StartError::Client(e));
                return std::process::ExitCode::FAILURE;
            }
        };
        let metrics = Arc::new(Metrics::default());
        let ready = Arc::new(AtomicBool::new(false));
        let admin = AdminState { ready: ready.clone(), metrics: metrics.clone() };
        let listener = match tokio::net::TcpListener::bind(args.admin_addr).await {
            Ok(l) => l,
            Err(e) => {
                error!(addr = %args.admin_addr, "cannot bind the admin server: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let mut admin_stop = stop_rx.clone();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router(admin))
                .with_graceful_shutdown(async move {
                    let _ = admin_stop.wait_for(|s| *s).await;
                })
                .await;
        });
        // With leader election, wait for the Lease; losing it later stops the controller and
        // the process exits non-zero (Kubernetes restarts it as a candidate).
        let lease = args.leader_election.then(|| LeaseConfig::new(&args.lease_namespace, &args.identity));
        let lost = Arc::new(AtomicBool::new(false));
        let (lost_tx, mut lost_rx) = watch::channel(false);
        if let Some(cfg) = &lease {
            info!(lease = %cfg.name, namespace = %cfg.namespace, identity = %cfg.identity, "waiting for leadership");
            if !leader::acquire(&client, cfg, stop_rx.clone()).await {
                let _ = server.await;
                return std::process::ExitCode::SUCCESS;
            }
            info!("leading");
            let (client, cfg, lost) = (client.clone(), cfg.clone(), lost.clone());
            tokio::spawn(async move {
                leader::hold(&client, &cfg).await;
                error!("leadership lost; stopping");
                lost.store(true, Ordering::Relaxed);
                let _ = lost_tx.send(true);
            });
        }
        let mut controller_stop = stop_rx.clone();
        let scope = args.scope();
        info!(tiers = ?scope.tiers, grafana = %scope.grafana, own = %scope.own, "namespaces granted by the install");
        let result = run_controller(client.clone(), scope, metrics, ready, Resync::Periodic, async move {
            tokio::select! {
                _ = controller_stop.wait_for(|s| *s) => {},
                _ = lost_rx.wait_for(|s| *s) => {},
            }
        })
        .await;
        if let (Some(cfg), false) = (&lease, lost.load(Ordering::Relaxed)) {
            if let Err(e) = leader::release(&client, cfg).await {
                warn!(error = %e, "could not release the Lease");
            }
        }
        server.abort();
        match result {
            Ok(()) if !lost.load(Ordering::Relaxed) => std::process::ExitCode::SUCCESS,
            Ok(()) => std::process::ExitCode::FAILURE,
            Err(e) => {
                error!("{e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The key of the pipeline a child belongs to: its name only. The pipeline is cluster-scoped; the
/// `owns()` triggers of kube map a child to an owner reference *in the child's namespace*, which
/// made one key per namespace for one pipeline, and the controller ran those keys concurrently
/// (two Valkey passwords and two rollouts at creation: issue 15, item 3). One key per pipeline
/// lets the controller serialize every reconcile of it.
pub fn pipeline_of(
    child: &impl ResourceExt,
) -> Option<ObjectRef<DeserializeGuard<BlackFridayPipeline>>> {
    let name = child.labels().get(names::LABEL_PIPELINE)?;
    Some(ObjectRef::new(name))
}

/// The controller loop until `shutdown` resolves. Used by `run` and, in-process, by the tests
/// (with `Resync::Off`, so what must come from a watch cannot pass because of a timer).
pub async fn run_controller(
    client: Client,
    scope: Scope,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    resync: Resync,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), StartError> {
    let pipelines: Api<DeserializeGuard<BlackFridayPipeline>> = Api::all(client.clone());
    pipelines
        .list(&ListParams::default().limit(1))
        .await
        .map_err(StartError::CrdMissing)?;
    let installed = discovery::installed(&client).await?;
    info!(providers = ?installed.0, "platform add-ons found");

    // Children are watched (filtered by our labels) so a deleted or edited child is put back
    // within seconds, and Deployment status changes refresh the conditions. One watch per kind
    // and namespace of the scope: the install grants list/watch only there (a Role per namespace),
    // so a cluster-wide watch would be refused. The tier Namespaces are watched by name (RBAC
    // authorizes a list/watch with `resourceNames` when it selects `metadata.name`).
    let ours = format!(
        "{}={},{}",
        names::LABEL_MANAGED_BY,
        names::MANAGER,
        names::LABEL_PIPELINE
    );
    let children = watcher::Config::default().labels(&ours);
    let mut controller = Controller::new(pipelines, watcher::Config::default());
    let (watched, skipped) = watched_kinds(&installed);
    for kind in skipped {
        warn!(
            kind = kind.kind(),
            provider = kind.provider().map(Provider::as_str),
            "not watching: CRD missing"
        );
    }
    for (api, kind, config) in watches(&client, &scope, &watched, &children) {
        controller = controller.watches_with(api, kind.api_resource(), config, |child| {
            pipeline_of(&child)
        });
    }

    let events = Publisher::new(
        client.clone(),
        names::MANAGER,
        std::env::var("POD_NAME").ok(),
    );
    let context = Arc::new(Context::new(client, scope, events, metrics, resync));
    ready.store(true, Ordering::Relaxed);
    controller
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(pipeline = %object.name, "reconciled"),
                Err(e) => tracing::debug!(error = %e, "reconcile error (reported by error_policy)"),
            }
        })
        .await;
    ready.store(false, Ordering::Relaxed);
    Ok(())
}

/// One (API, watcher config) per namespace and kind the controller watches: the tier Namespaces
/// by name, and every watched namespaced kind in each namespace the scope grants it.
fn watches(
    client: &Client,
    scope: &Scope,
    watched: &[ChildKind],
    children: &watcher::Config,
) -> Vec<(Api<DynamicObject>, ChildKind, watcher::Config)> {
    let mut out = Vec::new();
    if watched.contains(&ChildKind::Namespace) {
        let ar = ChildKind::Namespace.api_resource();
        for ns in &scope.tiers {
            let by_name = children.clone().fields(&format!("metadata.name={ns}"));
            out.push((
                Api::all_with(client.clone(), &ar),
                ChildKind::Namespace,
                by_name,
            ));
        }
    }
    for (ns, kind) in scope.namespaced() {
        if watched.contains(&kind) {
            let api = Api::namespaced_with(client.clone(), &ns, &kind.api_resource());
            out.push((api, kind, children.clone()));
        }
    }
    out
}

/// The child kinds the controller watches, derived from the one list of kinds so a new kind is
/// watched without touching this file: every kind whose API is served now. Kinds of an add-on not
/// installed yet are left out (a watch on a missing API would fail); the periodic resync picks
/// them up after the install.
pub fn watched_kinds(installed: &discovery::Installed) -> (Vec<ChildKind>, Vec<ChildKind>) {
    ChildKind::ALL
        .into_iter()
        .partition(|kind| installed.serves(*kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ServiceAccount;
    use kube::core::ObjectMeta;

    #[test]
    fn the_scope_comes_from_the_flags_the_install_sets_with_its_defaults() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunArgs,
        }
        let parsed = |args: &[&str]| Cli::try_parse_from(args).unwrap().run.scope();
        assert_eq!(parsed(&["op"]), Scope::default());
        let scope = parsed(&[
            "op",
            "--tier-namespaces",
            "shop, queue,cache",
            "--grafana-namespace",
            "monitoring",
            "--lease-namespace",
            "ops",
        ]);
        assert_eq!(
            scope,
            Scope::new(["shop", "queue", "cache"], "monitoring", "ops")
        );
    }

    #[test]
    fn children_in_every_namespace_map_to_one_key() {
        let child = |namespace: &str| ServiceAccount {
            metadata: ObjectMeta {
                name: Some("consumer".into()),
                namespace: Some(namespace.into()),
                labels: Some(names::ownership_labels("blackfriday")),
                ..Default::default()
            },
            ..Default::default()
        };
        let keys: std::collections::HashSet<_> = ["ingest", "valkey", "kafka", "grafana"]
            .into_iter()
            .map(|ns| pipeline_of(&child(ns)).expect("labelled"))
            .collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        let key = keys.into_iter().next().unwrap();
        assert_eq!((key.name.as_str(), key.namespace), ("blackfriday", None));
        assert!(pipeline_of(&ServiceAccount::default()).is_none());
    }

    #[test]
    fn every_child_kind_is_watched_once_its_api_is_served() {
        let (watched, skipped) = watched_kinds(&discovery::Installed::all());
        assert_eq!(watched, ChildKind::ALL.to_vec());
        assert!(skipped.is_empty());
        let (watched, skipped) = watched_kinds(&discovery::Installed::default());
        assert!(
            watched.contains(&ChildKind::Deployment)
                && watched.contains(&ChildKind::ServiceAccount)
        );
        assert_eq!(
            skipped,
            [
                ChildKind::Kafka,
                ChildKind::KafkaNodePool,
                ChildKind::KafkaTopic,
                ChildKind::KafkaUser,
                ChildKind::VirtualMachine,
                ChildKind::VerticalPodAutoscaler
            ]
        );
    }
}
