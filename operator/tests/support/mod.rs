//! What the tests against the bench's real kube-apiserver share: clients for the admin and the
//! operator identities, installing our CRD and RBAC, waiting, the in-process controller, and
//! reading children. (tests/cluster.rs predates this module and keeps its own copies.)

#![allow(dead_code)] // each test binary uses a different part

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Api, Client, CustomResourceExt};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use blackfriday_operator::crd::BlackFridayPipeline;
use blackfriday_operator::kinds::ChildKind;
use blackfriday_operator::metrics::Metrics;
use blackfriday_operator::reconcile::apply::api_for;
use blackfriday_operator::reconcile::Resync;
use blackfriday_operator::run::run_controller;
use blackfriday_operator::scope::{Scope, DEFAULT_GRAFANA, DEFAULT_TIERS};

pub const WAIT: Duration = Duration::from_secs(60);
/// Namespace deletion waits for the garbage collector, whose discovery refreshes every 30 s.
pub const GC_WAIT: Duration = Duration::from_secs(150);

pub async fn client_from(path: &str) -> Client {
    let kubeconfig = Kubeconfig::read_from(path).expect("readable kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("valid kubeconfig");
    Client::try_from(config).expect("client")
}

/// (admin, operator) clients, or None when there is no bench.
pub async fn bench() -> Option<(Client, Client)> {
    let admin = std::env::var("KUBECONFIG").ok()?;
    let operator = std::env::var("KUBECONFIG_OPERATOR")
        .expect("the bench writes KUBECONFIG_OPERATOR next to KUBECONFIG");
    Some((client_from(&admin).await, client_from(&operator).await))
}

pub fn repo(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn api_resource(value: &Value) -> ApiResource {
    let api_version = value["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = value["kind"].as_str().unwrap();
    let lower = kind.to_lowercase();
    let plural = match lower.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{lower}s"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &plural)
}

/// Server-side apply every document of a YAML file (repo-relative) as admin.
pub async fn apply_file(admin: &Client, path: &str) {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value: Value = serde::Deserialize::deserialize(doc).unwrap();
        if value.is_null() {
            continue;
        }
        let object: DynamicObject = serde_json::from_value(value.clone()).unwrap();
        let ar = api_resource(&value);
        let api: Api<DynamicObject> = match &object.metadata.namespace {
            Some(ns) => Api::namespaced_with(admin.clone(), ns, &ar),
            None => Api::all_with(admin.clone(), &ar),
        };
        api.patch(
            object.metadata.name.as_deref().unwrap(),
            &PatchParams::apply("blackfriday-test").force(),
            &Patch::Apply(&object),
        )
        .await
        .unwrap_or_else(|e| panic!("applying {} from {path}: {e}", value["kind"]));
    }
}

/// Our CRD and the operator's RBAC (config/rbac, every file kustomize installs), as an admin
/// installs them. Grafana's namespace exists first (its Helm release creates it), and the tier
/// namespaces of an earlier run that are still terminating are waited out (a RoleBinding cannot
/// be written into a terminating namespace).
pub async fn install(admin: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    crds.patch(
        "blackfridaypipelines.blackfriday.dev",
        &PatchParams::apply("blackfriday-test").force(),
        &Patch::Apply(&BlackFridayPipeline::crd()),
    )
    .await
    .unwrap();
    apply_file(admin, "config/manager/namespace.yaml").await;
    for ns in DEFAULT_TIERS.into_iter().chain([DEFAULT_GRAFANA]) {
        ensure_namespace(admin, ns).await;
    }
    for f in [
        "service_account.yaml",
        "cluster_role.yaml",
        "cluster_role_binding.yaml",
        "tier_role.yaml",
        "tier_namespaces.yaml",
        "grafana_role.yaml",
        "secret_sources_role.yaml",
        "events_role.yaml",
    ] {
        apply_file(admin, &format!("config/rbac/{f}")).await;
    }
    eventually("the CRD is served", WAIT, || async {
        let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
        api.list(&ListParams::default()).await.is_ok()
    })
    .await;
}

/// Remove the grants `install` and `grant_namespaces` made (the CRD, ServiceAccount and
/// namespaces stay), so later suites find an operator identity without rights.
pub async fn remove_grants(admin: &Client) {
    use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
    let dp = kube::api::DeleteParams::default();
    let _ = Api::<ClusterRoleBinding>::all(admin.clone())
        .delete("blackfriday-operator", &dp)
        .await;
    let bindings: Api<RoleBinding> = Api::all(admin.clone());
    let ours = ListParams::default().labels("app.kubernetes.io/name=blackfriday-operator");
    for binding in bindings.list(&ours).await.unwrap().items {
        let ns = binding.metadata.namespace.clone().unwrap_or_default();
        if ns == "blackfriday-system" || ns == "default" {
            continue; // leader election, secret sources, events: tests of their own manage them
        }
        let name = binding.metadata.name.clone().unwrap_or_default();
        let _ = Api::<RoleBinding>::namespaced(admin.clone(), &ns)
            .delete(&name, &dp)
            .await;
    }
}

/// Events about this pipeline (by uid: an earlier run's pipeline had another), newest last.
pub async fn events_of(admin: &Client, uid: &str) -> Vec<k8s_openapi::api::events::v1::Event> {
    let mut events: Vec<k8s_openapi::api::events::v1::Event> =
        Api::<k8s_openapi::api::events::v1::Event>::all(admin.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| {
                e.regarding
                    .as_ref()
                    .is_some_and(|r| r.uid.as_deref() == Some(uid))
            })
            .collect();
    events.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    events
}

pub fn has_event(
    events: &[k8s_openapi::api::events::v1::Event],
    type_: &str,
    reason: &str,
    note_has: &str,
) -> bool {
    events.iter().any(|e| {
        e.type_.as_deref() == Some(type_)
            && e.reason.as_deref() == Some(reason)
            && e.note.as_deref().is_some_and(|n| n.contains(note_has))
    })
}

/// The pipeline `name` of an earlier run is deleted and gone (its children may still be going).
pub async fn pipeline_gone(admin: &Client, name: &str) {
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    if api.get_opt(name).await.unwrap().is_some() {
        api.delete(name, &kube::api::DeleteParams::default())
            .await
            .unwrap();
        eventually("the old pipeline is gone", WAIT, || async {
            api.get_opt(name).await.unwrap().is_none()
        })
        .await;
    }
}

/// Create a namespace if it does not exist (one the pipeline does not own). One still
/// terminating from an earlier run is waited out first: writes into it would be refused.
pub async fn ensure_namespace(admin: &Client, name: &str) {
    eventually(
        &format!("namespace {name} is not terminating"),
        GC_WAIT,
        || async {
            match get(admin, ChildKind::Namespace, None, name).await {
                Some(ns) if ns.metadata.deletion_timestamp.is_some() => {
                    release_deleted_pvcs(admin, name).await;
                    false
                }
                _ => true,
            }
        },
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    match namespaces.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => panic!("creating namespace {name}: {e}"),
    }
}

pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The in-process controller (no periodic resync), stopped gracefully by `stop`, which also
/// surfaces a panic of the controller task instead of discarding it.
pub struct RunningController {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    pub metrics: Arc<Metrics>,
}

impl RunningController {
    /// The controller as installed by default (config/rbac's namespaces).
    pub fn start(operator: Client) -> Self {
        Self::start_in(operator, Scope::default())
    }

    /// The controller told `scope`, as the Deployment's BF_TIER_NAMESPACES/BF_GRAFANA_NAMESPACE
    /// tell it.
    pub fn start_in(operator: Client, scope: Scope) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        let metrics = Arc::new(Metrics::default());
        let task_metrics = metrics.clone();
        let task = tokio::spawn(async move {
            run_controller(
                operator,
                scope,
                task_metrics,
                Arc::new(AtomicBool::new(false)),
                Resync::Off,
                async move {
                    let _ = rx.await;
                },
            )
            .await
            .expect("the controller starts under its own RBAC");
        });
        Self {
            stop: Some(tx),
            task,
            metrics,
        }
    }

    /// Panics (with the task's own message) if the controller task died before being stopped.
    pub fn assert_running(&self) {
        assert!(
            !self.task.is_finished(),
            "the controller task ended on its own (see its panic above)"
        );
    }

    pub async fn stop(mut self) {
        self.assert_running();
        let _ = self.stop.take().unwrap().send(());
        match tokio::time::timeout(Duration::from_secs(30), &mut self.task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Ok(Err(e)) => panic!("the controller task failed: {e}"),
            Err(_) => panic!("the controller did not stop within 30 s of the shutdown signal"),
        }
    }

    /// Reconciles finished successfully so far.
    pub fn reconciled(&self) -> u64 {
        self.metrics.reconciles("ok")
    }
}

pub async fn get(
    client: &Client,
    kind: ChildKind,
    ns: Option<&str>,
    name: &str,
) -> Option<DynamicObject> {
    api_for(client, kind, ns).get_opt(name).await.unwrap()
}

/// Gone, or on its way.
pub async fn gone(client: &Client, kind: ChildKind, ns: Option<&str>, name: &str) -> bool {
    match get(client, kind, ns, name).await {
        None => true,
        Some(o) => o.metadata.deletion_timestamp.is_some(),
    }
}

/// A deleted PVC keeps its `kubernetes.io/pvc-protection` finalizer until no pod uses it; with no
/// kubelet nothing ever does, so release what is being deleted (as the protection controller would
/// once pods are gone) and let its namespace finish terminating.
pub async fn release_deleted_pvcs(admin: &Client, ns: &str) {
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(admin.clone(), ns);
    let Ok(list) = pvcs.list(&ListParams::default()).await else {
        return;
    };
    for pvc in list.items {
        if pvc.metadata.deletion_timestamp.is_some() {
            let name = pvc.metadata.name.unwrap_or_default();
            let _ = pvcs
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"finalizers": null}})),
                )
                .await;
        }
    }
}

/// The namespace does not exist any more (releasing its PVCs on the way).
pub async fn namespace_gone(admin: &Client, ns: &str) -> bool {
    release_deleted_pvcs(admin, ns).await;
    get(admin, ChildKind::Namespace, None, ns).await.is_none()
}

/// A condition of the pipeline as (status, reason, message).
pub fn condition(p: &BlackFridayPipeline, type_: &str) -> Option<(String, String, String)> {
    p.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// A test's bench input (KUBECONFIG, VALKEY_SERVER, an installed tool) is absent. On a developer's
/// machine the test then returns early and says so; in CI (`CI=true`, where scripts/test has started
/// the bench) it fails instead, so a renamed key or `--no-bench` cannot pass by skipping.
pub fn missing_bench(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what}; CI=true, so this fails instead of skipping: the bench must provide it");
    }
    eprintln!("skipped: {what}");
}

/// What a user whose pipeline uses other namespace names installs (the Helm chart does it from
/// `tierNamespaces` and `grafanaNamespace`): the tier namespaces, each with a RoleBinding to the
/// tier ClusterRole, patch/read of exactly those namespaces, and the Grafana Role in `grafana`.
/// Returns the scope the operator is then told.
pub async fn grant_namespaces(admin: &Client, grant: &str, tiers: &[&str], grafana: &str) -> Scope {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    let params = PatchParams::apply("blackfriday-test").force();
    let operator = json!([{"kind": "ServiceAccount", "name": "blackfriday-operator",
                           "namespace": "blackfriday-system"}]);
    let labels = json!({"app.kubernetes.io/name": "blackfriday-operator"});
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": grant},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"],
                   "resourceNames": tiers, "verbs": ["get", "list", "watch", "patch"]}]
    }))
    .unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": grant},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": grant},
        "subjects": operator
    }))
    .unwrap();
    Api::<ClusterRole>::all(admin.clone())
        .patch(grant, &params, &Patch::Apply(&role))
        .await
        .unwrap();
    Api::<ClusterRoleBinding>::all(admin.clone())
        .patch(grant, &params, &Patch::Apply(&binding))
        .await
        .unwrap();
    for ns in tiers.iter().chain([&grafana]) {
        ensure_namespace(admin, ns).await;
    }
    for ns in tiers {
        let binding: RoleBinding = serde_json::from_value(json!({
            "metadata": {"name": "blackfriday-operator", "namespace": ns, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "blackfriday-operator-tier"},
            "subjects": operator
        }))
        .unwrap();
        Api::<RoleBinding>::namespaced(admin.clone(), ns)
            .patch("blackfriday-operator", &params, &Patch::Apply(&binding))
            .await
            .unwrap();
    }
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": "blackfriday-operator", "namespace": grafana, "labels": labels},
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"],
                   "verbs": ["get", "list", "watch", "create", "patch", "delete"]}]
    }))
    .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "blackfriday-operator", "namespace": grafana, "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "blackfriday-operator"},
        "subjects": operator
    }))
    .unwrap();
    Api::<Role>::namespaced(admin.clone(), grafana)
        .patch("blackfriday-operator", &params, &Patch::Apply(&role))
        .await
        .unwrap();
    Api::<RoleBinding>::namespaced(admin.clone(), grafana)
        .patch("blackfriday-operator", &params, &Patch::Apply(&binding))
        .await
        .unwrap();
    Scope::new(tiers.iter().copied(), grafana, "blackfriday-system")
}
