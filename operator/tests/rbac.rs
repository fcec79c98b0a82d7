//! The operator's RBAC (config/rbac) against the bench's real kube-apiserver: what it grants is
//! exercised by tests/cluster.rs and tests/external.rs (the controller runs under exactly this
//! identity); here, what it must not grant is refused — asked with SubjectAccessReviews and tried
//! for real with the operator's own token — and a pipeline naming a namespace the install did not
//! grant is refused whole, with a condition and an Event naming the field.
//! Skips only when KUBECONFIG is absent (fails with CI=true).

mod support;

use support::*;

use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use blackfriday_operator::crd::BlackFridayPipeline;
use blackfriday_operator::kinds::ChildKind;
use blackfriday_operator::reconcile::apply::api_for;

const OPERATOR: &str = "system:serviceaccount:blackfriday-system:blackfriday-operator";

async fn may(admin: &Client, verb: &str, resource: &str, ns: Option<&str>, name: &str) -> bool {
    may_in(admin, "", verb, resource, ns, name).await
}

async fn may_in(
    admin: &Client,
    group: &str,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
    name: &str,
) -> bool {
    let review: SubjectAccessReview = serde_json::from_value(json!({
        "spec": {
            "user": OPERATOR,
            "groups": ["system:serviceaccounts", "system:serviceaccounts:blackfriday-system"],
            "resourceAttributes": {"group": group, "verb": verb, "resource": resource,
                                   "namespace": namespace, "name": name}
        }
    }))
    .unwrap();
    let answer = Api::<SubjectAccessReview>::all(admin.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap();
    answer.status.expect("a review has a status").allowed
}

#[tokio::test]
async fn the_operator_may_manage_only_its_own_namespaces() {
    let Some((admin, operator)) = bench().await else {
        missing_bench("KUBECONFIG is not set");
        return;
    };
    install(&admin).await;
    // Its tier namespaces, by name: read and label, never create or delete (the install does).
    for ns in ["ingest", "kafka", "valkey"] {
        for verb in ["get", "list", "watch", "patch"] {
            assert!(
                may(&admin, verb, "namespaces", None, ns).await,
                "{verb} namespace {ns}"
            );
        }
        for verb in ["create", "update", "delete"] {
            assert!(
                !may(&admin, verb, "namespaces", None, ns).await,
                "{verb} namespace {ns} must be denied"
            );
        }
    }
    // Any other namespace: not even read; and no list or watch of every namespace.
    for ns in ["kube-system", "default", "blackfriday-system", "grafana"] {
        for verb in ["get", "create", "patch", "update", "delete"] {
            assert!(
                !may(&admin, verb, "namespaces", None, ns).await,
                "{verb} namespace {ns} must be denied"
            );
        }
    }
    for verb in ["list", "watch"] {
        assert!(
            !may(&admin, verb, "namespaces", None, "").await,
            "{verb} every namespace must be denied"
        );
    }
    // Events: only in `default`, where Events about a cluster-scoped pipeline go.
    let events =
        |ns: &'static str| may_in(&admin, "events.k8s.io", "create", "events", Some(ns), "");
    assert!(events("default").await);
    assert!(!events("kube-system").await);
    // It cannot grant itself more: no RBAC objects, no bind/escalate, no pods to run as someone.
    for (verb, resource) in [
        ("create", "rolebindings"),
        ("create", "clusterrolebindings"),
        ("create", "pods"),
        ("create", "serviceaccounts/token"),
    ] {
        assert!(
            !may(&admin, verb, resource, Some("kube-system"), "x").await,
            "{verb} {resource}"
        );
    }

    // For real, with the operator's token: a namespace it does not own survives a delete, and one
    // with another name cannot be created (server-side apply, as the operator creates).
    let victim = "rbac-victim";
    ensure_namespace(&admin, victim).await;
    // The tier namespaces cannot be deleted either (they hold the install's RoleBindings).
    match as_operator_ns(&operator)
        .delete("valkey", &DeleteParams::default())
        .await
    {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{}", status.message),
        other => panic!("the operator deleted namespace valkey: {other:?}"),
    }
    let as_operator: Api<Namespace> = Api::all(operator.clone());
    match as_operator.delete(victim, &DeleteParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{}", status.message),
        other => panic!("the operator deleted namespace {victim}: {other:?}"),
    }
    let intruder =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rbac-intruder"}});
    match as_operator
        .patch(
            "rbac-intruder",
            &PatchParams::apply("blackfriday-operator"),
            &Patch::Apply(&intruder),
        )
        .await
    {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{}", status.message),
        other => panic!("the operator created namespace rbac-intruder: {other:?}"),
    }
    let admin_ns: Api<Namespace> = Api::all(admin.clone());
    assert!(admin_ns
        .get_opt(victim)
        .await
        .unwrap()
        .is_some_and(|n| n.metadata.deletion_timestamp.is_none()));
    let _ = admin_ns.delete(victim, &DeleteParams::default()).await;
}

fn as_operator_ns(operator: &Client) -> Api<Namespace> {
    Api::all(operator.clone())
}

/// Every child kind: (API group, resource).
const CHILD_RESOURCES: [(&str, &str); 14] = [
    ("", "secrets"),
    ("", "serviceaccounts"),
    ("", "services"),
    ("", "configmaps"),
    ("", "persistentvolumeclaims"),
    ("apps", "deployments"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "networkpolicies"),
    ("kafka.strimzi.io", "kafkas"),
    ("kafka.strimzi.io", "kafkanodepools"),
    ("kafka.strimzi.io", "kafkausers"),
    ("kubevirt.io", "virtualmachines"),
    ("autoscaling.k8s.io", "verticalpodautoscalers"),
];

/// Threat D of docs/security.md: a leaked operator token reads no Secret and runs no pod outside
/// the namespaces the install granted — every child kind only in the tier namespaces, Grafana's
/// namespace only ConfigMaps and Secrets, its own namespace only a Secret read by name.
#[tokio::test]
async fn child_kinds_only_in_the_granted_namespaces() {
    let Some((admin, operator)) = bench().await else {
        missing_bench("KUBECONFIG is not set");
        return;
    };
    install(&admin).await;
    for ns in ["ingest", "kafka", "valkey"] {
        for (group, resource) in CHILD_RESOURCES {
            for verb in ["get", "list", "watch", "create", "patch", "delete"] {
                assert!(
                    may_in(&admin, group, verb, resource, Some(ns), "").await,
                    "{verb} {resource} in tier namespace {ns}"
                );
            }
        }
    }
    for ns in [
        "kube-system",
        "default",
        "blackfriday-system",
        "grafana",
        "rbac-elsewhere",
    ] {
        for (group, resource) in CHILD_RESOURCES {
            if ns == "grafana" && group.is_empty() && ["secrets", "configmaps"].contains(&resource)
            {
                continue;
            }
            for verb in ["list", "watch", "create", "patch", "delete"] {
                assert!(
                    !may_in(&admin, group, verb, resource, Some(ns), "").await,
                    "{verb} {resource} in {ns} must be denied"
                );
            }
            if !(ns == "blackfriday-system" && resource == "secrets") {
                assert!(
                    !may_in(&admin, group, "get", resource, Some(ns), "x").await,
                    "get {resource} in {ns} must be denied"
                );
            }
        }
    }
    // Cluster-wide (every namespace at once): nothing.
    for (group, resource) in CHILD_RESOURCES {
        for verb in ["list", "watch"] {
            assert!(
                !may_in(&admin, group, verb, resource, None, "").await,
                "{verb} {resource} in every namespace must be denied"
            );
        }
    }
    // Grafana's namespace: exactly its dashboard ConfigMap and datasource Secret kinds.
    for resource in ["configmaps", "secrets"] {
        assert!(may(&admin, "create", resource, Some("grafana"), "").await);
        assert!(may(&admin, "list", resource, Some("grafana"), "").await);
    }
    // Its own namespace: a source Secret by name (the pull Secret), never a list of them.
    assert!(
        may(
            &admin,
            "get",
            "secrets",
            Some("blackfriday-system"),
            "zot-pull"
        )
        .await
    );

    // For real, with the operator's token: Secrets elsewhere unreadable, no Deployment elsewhere.
    let elsewhere = "rbac-elsewhere";
    ensure_namespace(&admin, elsewhere).await;
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "not-yours", "namespace": elsewhere},
        "stringData": {"token": "secret"}
    }))
    .unwrap();
    Api::<Secret>::namespaced(admin.clone(), elsewhere)
        .patch(
            "not-yours",
            &PatchParams::apply("blackfriday-test").force(),
            &Patch::Apply(&secret),
        )
        .await
        .unwrap();
    for result in [
        Api::<Secret>::namespaced(operator.clone(), elsewhere)
            .get("not-yours")
            .await
            .map(|_| ()),
        Api::<Secret>::all(operator.clone())
            .list(&ListParams::default())
            .await
            .map(|_| ()),
    ] {
        match result {
            Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{}", status.message),
            other => panic!("the operator read Secrets outside its namespaces: {other:?}"),
        }
    }
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "intruder", "namespace": elsewhere},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
    });
    match api_for(&operator, ChildKind::Deployment, Some(elsewhere))
        .patch(
            "intruder",
            &PatchParams::apply("blackfriday-operator"),
            &Patch::Apply(&deployment),
        )
        .await
    {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{}", status.message),
        other => panic!("the operator created a Deployment in {elsewhere}: {other:?}"),
    }
    let _ = Api::<Namespace>::all(admin.clone())
        .delete(elsewhere, &DeleteParams::default())
        .await;
}

/// A pipeline whose spec names namespaces the install did not grant: refused whole before anything
/// is applied — Ready False with reason NamespaceNotManaged naming every field, the same as a
/// Warning Event — and nothing of it exists anywhere, also in the one that does exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_in_namespaces_not_granted_is_refused_naming_the_fields() {
    let Some((admin, operator)) = bench().await else {
        missing_bench("KUBECONFIG is not set");
        return;
    };
    install(&admin).await;
    const NAME: &str = "bf-rbac-scope";
    const OUTSIDE: &str = "rbac-outside";
    // It exists (an admin made it), but the install granted the operator nothing there.
    ensure_namespace(&admin, OUTSIDE).await;
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    pipeline_gone(&admin, NAME).await;
    let controller = RunningController::start(operator.clone());
    let pipeline = json!({
        "apiVersion": "blackfriday.dev/v1alpha1", "kind": "BlackFridayPipeline",
        "metadata": {"name": NAME},
        "spec": {
            "namespaces": {"ingest": OUTSIDE, "kafka": "kafka", "valkey": "rbac-outside-valkey"},
            "grafana": {"namespace": "rbac-outside-grafana"},
            "registry": {"pullSecret": {"name": "zot-pull", "namespace": "kube-system"}}
        }
    });
    api.patch(
        NAME,
        &PatchParams::apply("blackfriday-test-user").force(),
        &Patch::Apply(&pipeline),
    )
    .await
    .unwrap();
    let fields = [
        "spec.namespaces.ingest",
        "spec.namespaces.valkey",
        "spec.grafana.namespace",
        "spec.registry.pullSecret.namespace",
    ];
    eventually(
        "Ready is False with reason NamespaceNotManaged",
        WAIT,
        || async {
            let p = api.get(NAME).await.unwrap();
            condition(&p, "Ready").is_some_and(|(status, reason, _)| {
                status == "False" && reason == "NamespaceNotManaged"
            })
        },
    )
    .await;
    let p = api.get(NAME).await.unwrap();
    let (_, _, message) = condition(&p, "Ready").unwrap();
    for field in fields {
        assert!(message.contains(field), "Ready names {field}: {message}");
    }
    assert!(
        !message.contains("spec.namespaces.kafka"),
        "kafka is granted: {message}"
    );
    let degraded = condition(&p, "Degraded").unwrap();
    assert_eq!(
        (degraded.0.as_str(), degraded.1.as_str()),
        ("True", "NamespaceNotManaged")
    );
    let uid = p.metadata.uid.clone().unwrap();
    eventually("a Warning Event names the fields", WAIT, || async {
        let events = events_of(&admin, &uid).await;
        fields
            .iter()
            .all(|f| has_event(&events, "Warning", "NamespaceNotManaged", f))
    })
    .await;
    // Never a partial apply: no object of this pipeline anywhere (the granted kafka namespace
    // included), and the controller is still running.
    let selector =
        ListParams::default().labels(&blackfriday_operator::names::ownership_selector(NAME));
    for kind in ChildKind::ALL {
        if let Ok(list) = api_for(&admin, kind, None).list_metadata(&selector).await {
            let names: Vec<_> = list.items.iter().map(|i| i.metadata.name.clone()).collect();
            assert!(
                names.is_empty(),
                "{} of the refused pipeline exist: {names:?}",
                kind.kind()
            );
        }
    }
    controller.assert_running();
    controller.stop().await;
    api.delete(NAME, &DeleteParams::default()).await.unwrap();
    let _ = Api::<Namespace>::all(admin.clone())
        .delete(OUTSIDE, &DeleteParams::default())
        .await;
}
