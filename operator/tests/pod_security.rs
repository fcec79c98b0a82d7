//! The Pod Security Admission labels the operator renders, held to the bench's real
//! kube-apiserver and its built-in PodSecurity admission: every rendered Deployment's pod is
//! admitted in its namespace, and pods that break the namespace's level are refused with the
//! PodSecurity message. Pods are created with dryRun=All (admission runs in full, nothing is
//! stored), in namespaces of their own so tests/cluster.rs's pipeline is never touched.
//! Skips only when KUBECONFIG is absent (fails then with CI=true).

mod support;

use support::*;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};

use blackfriday_operator::build::{desired, ClusterInputs, Desired};
use blackfriday_operator::crd::BlackFridayPipelineSpec;
use blackfriday_operator::kinds::ChildKind;
use blackfriday_operator::reconcile::apply::api_for;
use blackfriday_operator::validate::validate_spec;

const INGEST: &str = "psa-ingest";
const KAFKA: &str = "psa-kafka";
const VALKEY: &str = "psa-valkey";

fn rendered() -> Desired {
    let mut spec = BlackFridayPipelineSpec::default();
    spec.namespaces.ingest = INGEST.into();
    spec.namespaces.kafka = KAFKA.into();
    spec.namespaces.valkey = VALKEY.into();
    spec.grafana.namespace = "psa-grafana".into();
    let p = validate_spec("psa", None, None, &spec).unwrap();
    desired(&p, &ClusterInputs::default())
}

/// A pod made of a rendered Deployment's template, as the ReplicaSet controller would make it.
fn pod_of(deployment: &Value, name: &str) -> Value {
    let template = &deployment["spec"]["template"];
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": template["metadata"]["labels"]},
        "spec": template["spec"]
    })
}

/// Ok(()) when admitted, Err(message) when refused.
async fn dry_run_create(admin: &Client, ns: &str, pod: &Value) -> Result<(), String> {
    let pod: Pod = serde_json::from_value(pod.clone()).unwrap();
    let params = PostParams {
        dry_run: true,
        ..Default::default()
    };
    match Api::<Pod>::namespaced(admin.clone(), ns)
        .create(&params, &pod)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 403 => Err(status.message),
        Err(e) => panic!("creating a pod in {ns}: {e}"),
    }
}

fn refused_by(result: Result<(), String>, level: &str, what: &str) {
    match result {
        Ok(()) => panic!("{what} was admitted; PodSecurity {level} must refuse it"),
        Err(message) => assert!(
            message.contains(&format!("violates PodSecurity \"{level}")),
            "{what}: refused, but not by PodSecurity {level}: {message}"
        ),
    }
}

#[tokio::test]
async fn the_namespace_labels_admit_our_pods_and_refuse_violations() {
    let Some((admin, _)) = bench().await else {
        missing_bench("KUBECONFIG is not set");
        return;
    };
    let d = rendered();
    // The rendered namespaces, applied as the operator would (an earlier run's may still be going).
    for namespace in d.of_kind(ChildKind::Namespace) {
        let name = namespace.name().to_string();
        eventually(
            &format!("namespace {name} is not terminating"),
            GC_WAIT,
            || async {
                get(&admin, ChildKind::Namespace, None, &name)
                    .await
                    .is_none_or(|ns| ns.metadata.deletion_timestamp.is_none())
            },
        )
        .await;
        api_for(&admin, ChildKind::Namespace, None)
            .patch(
                &name,
                &PatchParams::apply("blackfriday-test").force(),
                &Patch::Apply(&namespace.object),
            )
            .await
            .unwrap();
    }

    // Every program we run is admitted under restricted.
    let deployments: Vec<_> = d.of_kind(ChildKind::Deployment).collect();
    assert_eq!(deployments.len(), 5);
    for deployment in &deployments {
        let pod = pod_of(&deployment.object.data, deployment.name());
        assert_eq!(
            dry_run_create(&admin, INGEST, &pod).await,
            Ok(()),
            "{} must be admitted under restricted",
            deployment.name()
        );
    }

    // What restricted refuses, each on its own, starting from our own pod.
    let ours = pod_of(&deployments[0].object.data, "violator");
    let mut privileged = ours.clone();
    privileged["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    privileged["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] =
        json!(true);
    refused_by(
        dry_run_create(&admin, INGEST, &privileged).await,
        "restricted",
        "a privileged container in ingest",
    );
    let mut root = ours.clone();
    root["spec"]["securityContext"]["runAsNonRoot"] = json!(false);
    root["spec"]["securityContext"]["runAsUser"] = json!(0);
    refused_by(
        dry_run_create(&admin, INGEST, &root).await,
        "restricted",
        "a root pod in ingest",
    );
    let mut capability = ours.clone();
    capability["spec"]["containers"][0]["securityContext"]["capabilities"] =
        json!({"drop": ["ALL"], "add": ["NET_RAW"]});
    refused_by(
        dry_run_create(&admin, INGEST, &capability).await,
        "restricted",
        "a pod adding NET_RAW in ingest",
    );

    // kafka enforces baseline: a plain pod (what Strimzi's baseline provider makes) is admitted,
    // a host-network or hostPath pod is not.
    let plain = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    });
    assert_eq!(dry_run_create(&admin, KAFKA, &plain).await, Ok(()));
    refused_by(
        dry_run_create(&admin, INGEST, &plain).await,
        "restricted",
        "a pod without the restricted settings in ingest",
    );
    let mut host = plain.clone();
    host["spec"]["hostNetwork"] = json!(true);
    refused_by(
        dry_run_create(&admin, KAFKA, &host).await,
        "baseline",
        "a hostNetwork pod in kafka",
    );
    let mut host_path = plain.clone();
    host_path["spec"]["volumes"] = json!([{"name": "root", "hostPath": {"path": "/"}}]);
    refused_by(
        dry_run_create(&admin, KAFKA, &host_path).await,
        "baseline",
        "a hostPath pod in kafka",
    );

    // valkey admits what KubeVirt's virt-launcher needs (a privileged workload).
    let mut launcher = plain.clone();
    launcher["spec"]["containers"][0]["securityContext"] =
        json!({"privileged": true, "capabilities": {"add": ["NET_ADMIN", "SYS_NICE"]}});
    assert_eq!(dry_run_create(&admin, VALKEY, &launcher).await, Ok(()));

    for ns in [INGEST, KAFKA, VALKEY] {
        let _ = api_for(&admin, ChildKind::Namespace, None)
            .delete(ns, &DeleteParams::default())
            .await;
    }
}
