//! Bring-your-own Valkey (and Kafka) against the bench's real kube-apiserver, with the controller
//! in-process under the operator's RBAC: a managed pipeline switched to `valkey.mode: external`
//! prunes its VMs, PVCs, Services and Secrets (the valkey namespace stays: it belongs to the
//! install) and points the consumer and Grafana at the given addresses with the user's password;
//! a missing password Secret is reported; switching back to managed brings the VMs back. Skips
//! only without KUBECONFIG.
//!
//! Its own pipeline name and namespaces, granted as a user with other names installs them
//! (support::grant_namespaces), so it never touches tests/cluster.rs's pipeline.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::Api;
use serde_json::{json, Value};

use blackfriday_operator::crd::BlackFridayPipeline;
use blackfriday_operator::kinds::ChildKind;
use support::*;

const NAME: &str = "bf-external";
const INGEST: &str = "ext-ingest";
const KAFKA: &str = "ext-kafka";
const VALKEY: &str = "ext-valkey";
const GRAFANA: &str = "ext-grafana";
/// Where the user keeps the external server's password: the operator's own namespace, where the
/// install lets it read Secrets by name (config/rbac/secret_sources_role.yaml).
const OPS: &str = "blackfriday-system";
const PRIMARY: &str = "valkey-primary.cache.bench.invalid:6379";
const READER: &str = "valkey-reader.cache.bench.invalid:6379";

fn spec(valkey: Value) -> Value {
    json!({
        "apiVersion": "blackfriday.dev/v1alpha1",
        "kind": "BlackFridayPipeline",
        "metadata": {"name": NAME},
        "spec": {
            "namespaces": {"ingest": INGEST, "kafka": KAFKA, "valkey": VALKEY},
            "grafana": {"namespace": GRAFANA},
            "kafka": {"mode": "external", "bootstrapServers": "kafka.bench.invalid:9092"},
            "valkey": valkey
        }
    })
}

fn managed() -> Value {
    spec(json!({"mode": "managed", "replicas": 2}))
}

fn external() -> Value {
    spec(json!({
        "mode": "external",
        "replicas": 2,
        "external": {
            "primaryAddress": PRIMARY,
            "readAddress": READER,
            "passwordSecret": {"name": "valkey-external", "namespace": OPS, "key": "token"}
        }
    }))
}

async fn apply(admin: &kube::Client, value: &Value) {
    Api::<BlackFridayPipeline>::all(admin.clone())
        .patch(
            NAME,
            &PatchParams::apply("blackfriday-test-user").force(),
            &Patch::Apply(value),
        )
        .await
        .unwrap();
}

async fn pipeline(admin: &kube::Client) -> BlackFridayPipeline {
    Api::<BlackFridayPipeline>::all(admin.clone())
        .get(NAME)
        .await
        .unwrap()
}

async fn consumer_env(admin: &kube::Client, name: &str) -> Option<String> {
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), INGEST);
    let consumer = deployments.get_opt("consumer").await.unwrap()?;
    consumer.spec?.template.spec?.containers[0]
        .env
        .clone()?
        .into_iter()
        .find(|e| e.name == name)
        .and_then(|e| e.value)
}

async fn secret_value(admin: &kube::Client, ns: &str, name: &str, key: &str) -> Option<String> {
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), ns);
    let secret = secrets.get_opt(name).await.unwrap()?;
    let bytes = secret.data?.remove(key)?;
    String::from_utf8(bytes.0).ok()
}

async fn put_password(admin: &kube::Client, password: &str) {
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), OPS);
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "valkey-external", "namespace": OPS},
        "stringData": {"token": password}
    }))
    .unwrap();
    secrets
        .patch(
            "valkey-external",
            &PatchParams::apply("blackfriday-test-user").force(),
            &Patch::Apply(&secret),
        )
        .await
        .unwrap();
}

/// The Grafana datasource provisioning file the operator wrote.
async fn datasource(admin: &kube::Client) -> String {
    secret_value(
        admin,
        GRAFANA,
        "blackfriday-valkey-datasource",
        "blackfriday-valkey.yaml",
    )
    .await
    .unwrap_or_default()
}

/// The spec is unchanged but the object is touched, so the controller reconciles now instead of
/// at its 30 s resync (a user's Secret outside our namespaces is not watched).
async fn nudge(admin: &kube::Client, n: u32) {
    Api::<BlackFridayPipeline>::all(admin.clone())
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"test.blackfriday.dev/nudge": n.to_string()}}}),
            ),
        )
        .await
        .unwrap();
}

async fn valkey_condition(admin: &kube::Client) -> Option<(String, String, String)> {
    let p = pipeline(admin).await;
    let current = p.status.as_ref()?.observed_generation == p.metadata.generation;
    current.then(|| condition(&p, "Valkey")).flatten()
}

async fn vms_exist(admin: &kube::Client) -> bool {
    for vm in ["valkey-0", "valkey-1"] {
        if get(admin, ChildKind::VirtualMachine, Some(VALKEY), vm)
            .await
            .is_none()
        {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_valkey_between_managed_and_external_converges_and_prunes() {
    let Some((admin, operator)) = bench().await else {
        missing_bench("no KUBECONFIG (start the bench: scripts/testbed/k8s.sh start)");
        return;
    };
    install(&admin).await;
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    if api.get_opt(NAME).await.unwrap().is_some() {
        api.delete(NAME, &DeleteParams::default()).await.unwrap();
    }
    // A clean slate: this test's namespaces of an earlier run go, then are installed afresh.
    delete_namespaces(&admin).await;
    // config/rbac grants only the default namespaces: install the grants for these names.
    let scope = grant_namespaces(
        &admin,
        "blackfriday-operator-ext-namespaces",
        &[INGEST, KAFKA, VALKEY],
        GRAFANA,
    )
    .await;
    put_password(&admin, "first-password").await;
    let controller = RunningController::start_in(operator.clone(), scope);

    step_1_managed(&admin).await;
    step_2_external(&admin).await;
    step_3_user_secret_disappears(&admin).await;
    step_4_back_to_managed(&admin).await;
    controller.stop().await;
    api.delete(NAME, &DeleteParams::default()).await.unwrap();
    eventually(
        "the pipeline's children are garbage-collected",
        GC_WAIT,
        || async {
            gone(&admin, ChildKind::Deployment, Some(INGEST), "consumer").await
                && gone(&admin, ChildKind::VirtualMachine, Some(VALKEY), "valkey-0").await
        },
    )
    .await;
    let _ = Api::<Secret>::namespaced(admin.clone(), OPS)
        .delete("valkey-external", &DeleteParams::default())
        .await;
    delete_namespaces(&admin).await;
    let _ = Api::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>::all(admin.clone())
        .delete(
            "blackfriday-operator-ext-namespaces",
            &DeleteParams::default(),
        )
        .await;
}

/// 1. Managed: the operator runs Valkey (VMs, data PVCs, Services, its own password Secret).
async fn step_1_managed(admin: &kube::Client) {
    apply(&admin, &managed()).await;
    eventually("the managed Valkey tier exists", WAIT, || async {
        vms_exist(&admin).await
            && get(
                &admin,
                ChildKind::PersistentVolumeClaim,
                Some(VALKEY),
                "valkey-data-1",
            )
            .await
            .is_some()
            && get(&admin, ChildKind::Service, Some(VALKEY), "valkey-primary")
                .await
                .is_some()
            && get(
                &admin,
                ChildKind::Secret,
                Some(VALKEY),
                "valkey-0-cloud-init",
            )
            .await
            .is_some()
    })
    .await;
    assert_eq!(
        consumer_env(&admin, "VALKEY_ADDR").await.as_deref(),
        Some("valkey-primary.ext-valkey.svc.cluster.local:6379")
    );
    // External Kafka: no Strimzi objects, and the kafka namespace is not labelled as the tier's.
    let kafka_ns = get(&admin, ChildKind::Namespace, None, KAFKA)
        .await
        .unwrap();
    assert!(!kafka_ns
        .metadata
        .labels
        .unwrap_or_default()
        .contains_key(blackfriday_operator::names::LABEL_PIPELINE));
    assert!(get(&admin, ChildKind::Kafka, Some(KAFKA), "blackfriday")
        .await
        .is_none());
}

/// 2. External: nothing Valkey-side is left; the programs get the given addresses and password.
async fn step_2_external(admin: &kube::Client) {
    apply(&admin, &external()).await;
    eventually(
        "the VMs, PVCs, Services and Secrets of the valkey tier are pruned",
        WAIT,
        || async {
            let mut all_gone = true;
            for (kind, name) in [
                (ChildKind::VirtualMachine, "valkey-0"),
                (ChildKind::VirtualMachine, "valkey-1"),
                (ChildKind::PersistentVolumeClaim, "valkey-data-0"),
                (ChildKind::PersistentVolumeClaim, "valkey-data-1"),
                (ChildKind::Service, "valkey-primary"),
                (ChildKind::Service, "valkey-read"),
                (ChildKind::Secret, "valkey-auth"),
                (ChildKind::Secret, "valkey-0-cloud-init"),
            ] {
                all_gone &= gone(&admin, kind, Some(VALKEY), name).await;
            }
            all_gone
        },
    )
    .await;
    eventually(
        "the consumer and Grafana use the external Valkey",
        WAIT,
        || async {
            consumer_env(&admin, "VALKEY_ADDR").await.as_deref() == Some(PRIMARY)
                && secret_value(&admin, INGEST, "valkey-auth", "password")
                    .await
                    .as_deref()
                    == Some("first-password")
                && datasource(&admin)
                    .await
                    .contains(&format!("url: redis://{READER}"))
        },
    )
    .await;
    assert!(datasource(&admin)
        .await
        .contains("password: first-password"));
    eventually("the Valkey condition says External", WAIT, || async {
        valkey_condition(&admin)
            .await
            .is_some_and(|(status, reason, message)| {
                status == "True" && reason == "External" && message.contains(PRIMARY)
            })
    })
    .await;
    assert_eq!(
        pipeline(&admin)
            .await
            .status
            .unwrap()
            .valkey_primary
            .as_deref(),
        Some(PRIMARY)
    );
    // Nothing blocks. (A VM still wanted in the deleted namespace would not show here: conditions
    // only cover the children a component lists; the unit test
    // external_valkey_creates_nothing_valkey_side holds the desired set.)
    nudge(&admin, 0).await;
    eventually("a reconcile with nothing left to fail", WAIT, || async {
        let p = pipeline(&admin).await;
        p.status.as_ref().and_then(|s| s.observed_generation) == p.metadata.generation
            && condition(&p, "Degraded")
                .is_some_and(|(status, reason, _)| status == "False" && reason == "AsExpected")
    })
    .await;
    // The namespace itself stays: it belongs to the install and holds the operator's RoleBinding.
    assert!(get(&admin, ChildKind::Namespace, None, VALKEY)
        .await
        .is_some_and(|ns| ns.metadata.deletion_timestamp.is_none()));
}

/// 3. The user's Secret disappears: reported by field, never replaced by an invented password.
async fn step_3_user_secret_disappears(admin: &kube::Client) {
    Api::<Secret>::namespaced(admin.clone(), OPS)
        .delete("valkey-external", &DeleteParams::default())
        .await
        .unwrap();
    nudge(&admin, 1).await;
    eventually("the missing password Secret is reported", WAIT, || async {
        valkey_condition(&admin)
            .await
            .is_some_and(|(status, reason, message)| {
                status == "False"
                    && reason == "PasswordSecretMissing"
                    && message.contains("spec.valkey.external.passwordSecret")
            })
    })
    .await;
    // A rotated password lands in the consumer's copy.
    put_password(&admin, "rotated-password").await;
    nudge(&admin, 2).await;
    eventually("the rotated password is copied", WAIT, || async {
        secret_value(&admin, INGEST, "valkey-auth", "password")
            .await
            .as_deref()
            == Some("rotated-password")
            && valkey_condition(&admin)
                .await
                .is_some_and(|(_, reason, _)| reason == "External")
    })
    .await;
}

/// 4. Back to managed: the VMs, their Secrets and the namespace return; the consumer follows.
async fn step_4_back_to_managed(admin: &kube::Client) {
    apply(&admin, &managed()).await;
    eventually("the managed Valkey tier is back", WAIT, || async {
        vms_exist(&admin).await
            && consumer_env(&admin, "VALKEY_ADDR").await.as_deref()
                == Some("valkey-primary.ext-valkey.svc.cluster.local:6379")
            && secret_value(&admin, VALKEY, "valkey-auth", "password")
                .await
                .is_some()
    })
    .await;
    // The managed tier has its own password again (generated), not the external one.
    assert_ne!(
        secret_value(&admin, VALKEY, "valkey-auth", "password")
            .await
            .as_deref(),
        Some("rotated-password")
    );
    eventually("the Valkey condition is about VMs again", WAIT, || async {
        valkey_condition(&admin)
            .await
            .is_some_and(|(_, reason, _)| reason == "VirtualMachinesNotReady")
    })
    .await;
}

/// This test's namespaces (scratch ones: the admin deletes them, as an uninstall would).
async fn delete_namespaces(admin: &kube::Client) {
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(admin.clone());
    for ns in [INGEST, KAFKA, VALKEY, GRAFANA] {
        let _ = namespaces.delete(ns, &DeleteParams::default()).await;
        eventually(&format!("namespace {ns} is deleted"), GC_WAIT, || {
            namespace_gone(admin, ns)
        })
        .await;
    }
}
