//! The operator's RBAC (config/rbac) against the bench's real kube-apiserver: what it grants is
//! exercised by tests/cluster.rs and tests/external.rs (the controller runs under exactly this
//! identity); here, what it must not grant is refused — asked with SubjectAccessReviews and tried
//! for real with the operator's own token. Skips only when KUBECONFIG is absent (fails with CI=true).

mod support;

use support::*;

use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

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
    // Its tier namespaces, by name.
    for ns in ["ingest", "kafka", "valkey"] {
        for verb in ["create", "patch", "delete"] {
            assert!(
                may(&admin, verb, "namespaces", None, ns).await,
                "{verb} namespace {ns}"
            );
        }
    }
    // Any other namespace: read, never change.
    for ns in ["kube-system", "default", "blackfriday-system", "grafana"] {
        assert!(
            may(&admin, "get", "namespaces", None, ns).await,
            "get namespace {ns}"
        );
        for verb in ["create", "patch", "update", "delete"] {
            assert!(
                !may(&admin, verb, "namespaces", None, ns).await,
                "{verb} namespace {ns} must be denied"
            );
        }
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
