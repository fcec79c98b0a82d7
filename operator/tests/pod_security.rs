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

    // kafka enforces restricted (its own function: the Strimzi-shaped pods).
    kafka_admits_the_strimzi_pods_our_templates_make(&admin, &d).await;
}

/// kafka enforces restricted: the pods Strimzi makes from our Kafka and KafkaNodePool are
/// admitted, built as Strimzi builds them (no Strimzi runs here): each container gets the
/// template's security context as given (strimzi-kafka-operator PodSecurityProvider), the
/// broker pod `fsGroup: 0` (its baseline provider, persistent storage) and the volume kinds
/// Strimzi mounts (the data PVC, an emptyDir for /tmp, ConfigMaps, Secrets).
async fn kafka_admits_the_strimzi_pods_our_templates_make(admin: &Client, d: &Desired) {
    let kafka = d
        .of_kind(ChildKind::Kafka)
        .next()
        .unwrap()
        .object
        .data
        .clone();
    let pool = d
        .of_kind(ChildKind::KafkaNodePool)
        .next()
        .unwrap()
        .object
        .data
        .clone();
    let template = &pool["spec"]["template"];
    assert_eq!(
        template["kafkaContainer"], kafka["spec"]["kafka"]["template"]["kafkaContainer"],
        "the node pool's template replaces the Kafka's for its pods: both must say the same"
    );
    let container = |name: &str, context: &Value| {
        assert!(context.is_object(), "{name}: no security context rendered");
        json!({"name": name, "image": "busybox", "securityContext": context})
    };
    let broker = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "blackfriday-dual-role-0"},
        "spec": {
            "securityContext": {"fsGroup": 0},
            "initContainers": [container("kafka-init", &template["initContainer"]["securityContext"])],
            "containers": [container("kafka", &template["kafkaContainer"]["securityContext"])],
            "volumes": [
                {"name": "data-0", "persistentVolumeClaim": {"claimName": "data-0-blackfriday-dual-role-0"}},
                {"name": "strimzi-tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "5Mi"}},
                {"name": "kafka-metrics-and-logging", "configMap": {"name": "blackfriday-dual-role-0"}},
                {"name": "cluster-ca", "secret": {"secretName": "blackfriday-cluster-ca-cert"}}
            ]
        }
    });
    assert_eq!(
        dry_run_create(&admin, KAFKA, &broker).await,
        Ok(()),
        "a broker pod"
    );
    let eo = &kafka["spec"]["entityOperator"]["template"];
    let entity_operator = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "blackfriday-entity-operator"},
        "spec": {"containers": [
            container("topic-operator", &eo["topicOperatorContainer"]["securityContext"]),
            container("user-operator", &eo["userOperatorContainer"]["securityContext"])
        ]}
    });
    assert_eq!(
        dry_run_create(&admin, KAFKA, &entity_operator).await,
        Ok(()),
        "the entity operator pod"
    );
    // What Strimzi's default provider makes without our templates (no container security
    // context) is refused, as are host namespaces and hostPath.
    let plain = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    });
    refused_by(
        dry_run_create(&admin, KAFKA, &plain).await,
        "restricted",
        "a broker pod without the template's security context in kafka",
    );
    refused_by(
        dry_run_create(&admin, INGEST, &plain).await,
        "restricted",
        "a pod without the restricted settings in ingest",
    );
    let mut host = broker.clone();
    host["spec"]["hostNetwork"] = json!(true);
    refused_by(
        dry_run_create(&admin, KAFKA, &host).await,
        "restricted",
        "a hostNetwork pod in kafka",
    );
    let mut host_path = broker.clone();
    host_path["spec"]["volumes"] = json!([{"name": "root", "hostPath": {"path": "/"}}]);
    refused_by(
        dry_run_create(&admin, KAFKA, &host_path).await,
        "restricted",
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
