//! Against the bench's real kube-apiserver (etcd, garbage collector, Strimzi CRDs, KubeVirt VM
//! CRD; no kubelet, so nothing becomes ready). The controller runs in-process under the
//! operator's own identity (KUBECONFIG_OPERATOR), after this test installs our CRD and
//! config/rbac as admin (KUBECONFIG). Skips only when KUBECONFIG is absent (fails then with CI=true).
//!
//! One test walks the whole lifecycle in order, because the pipeline is cluster-scoped and its
//! children have fixed names: running steps in parallel would make them fight.
//!
//! The controller runs with `Resync::Off`: no timer reconciles, so everything the test sees
//! happen was caused by a watch event (a broken watch cannot pass because a resync came by).

mod support;

use support::*;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, ResourceExt};
use serde_json::{json, Value};

use blackfriday_operator::crd::BlackFridayPipeline;
use blackfriday_operator::kinds::ChildKind;
use blackfriday_operator::reconcile::apply::api_for;
use blackfriday_operator::reconcile::discovery;
use blackfriday_operator::render::{parse_pipeline, render_pipeline};
use blackfriday_operator::run::INSTALL_CRD;

const NAME: &str = "blackfriday";

/// Every distinct value the `valkey-auth` Secrets held, in any namespace, from before the
/// pipeline exists: a password written twice shows as two values even if the second wins.
fn record_passwords(admin: &Client) -> Arc<Mutex<BTreeSet<String>>> {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let sink = seen.clone();
    let secrets: Api<Secret> = Api::all(admin.clone());
    let config = watcher::Config::default().fields("metadata.name=valkey-auth");
    tokio::spawn(
        watcher(secrets, config)
            .applied_objects()
            .for_each(move |secret| {
                if let Ok(secret) = secret {
                    for value in secret.data.unwrap_or_default().into_values() {
                        sink.lock()
                            .unwrap()
                            .insert(String::from_utf8_lossy(&value.0).into_owned());
                    }
                }
                std::future::ready(())
            }),
    );
    seen
}

/// Annotate a child with a value the operator does not own: a change its watch must see, that
/// the next apply leaves alone (so nothing but the reconcile itself follows from it).
async fn touch_child(admin: &Client, round: u32) {
    api_for(admin, ChildKind::Service, Some("ingest"))
        .patch(
            "rust-api",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"test.blackfriday.dev/touch": round.to_string()}}})),
        )
        .await
        .unwrap();
}

fn sample_value() -> Value {
    let text = std::fs::read_to_string(repo("config/samples/pipeline.yaml")).unwrap();
    let value: Value = serde_yaml::from_str(&text).unwrap();
    // Without the pull Secret here; step 1b configures one and checks the copies.
    let mut value = value;
    value["spec"]["registry"]
        .as_object_mut()
        .unwrap()
        .remove("pullSecret");
    value
}

async fn apply_pipeline(admin: &Client, value: &Value) -> Result<BlackFridayPipeline, kube::Error> {
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    api.patch(
        NAME,
        &PatchParams::apply("blackfriday-test-user").force(),
        &Patch::Apply(value),
    )
    .await
}

async fn pipeline(admin: &Client) -> BlackFridayPipeline {
    Api::<BlackFridayPipeline>::all(admin.clone())
        .get(NAME)
        .await
        .unwrap()
}

/// No namespaced child of the pipeline exists any more (the namespaces stay: they belong to the
/// install). Deletes what has no owner left (retained data of an aborted run) and releases
/// deleted PVCs, as the missing controllers would.
async fn no_children_left(admin: &Client) -> bool {
    let selector =
        ListParams::default().labels(&blackfriday_operator::names::ownership_selector(NAME));
    let mut none = true;
    for kind in ChildKind::ALL.into_iter().filter(|k| k.namespaced()) {
        let Ok(list) = api_for(admin, kind, None).list_metadata(&selector).await else {
            continue; // kind not served
        };
        for item in list.items {
            none = false;
            let ns = item.metadata.namespace.clone().unwrap_or_default();
            release_deleted_pvcs(admin, &ns).await;
            if item
                .metadata
                .owner_references
                .unwrap_or_default()
                .is_empty()
            {
                let name = item.metadata.name.unwrap_or_default();
                let _ = api_for(admin, kind, Some(&ns))
                    .delete(&name, &DeleteParams::default())
                    .await;
            }
        }
    }
    none
}

/// The copy of Strimzi's cluster CA (docs/kafka-auth.md): render shows it, but in the cluster it
/// exists only once Strimzi has written the CA, and no Strimzi runs on the bench.
fn is_kafka_ca_copy(child: &blackfriday_operator::build::Child) -> bool {
    child.kind == ChildKind::Secret
        && child.namespace() == Some("ingest")
        && child.name() == blackfriday_operator::names::KAFKA_CA_COPY
}

/// Every child `render` predicts exists (applied with fieldValidation=Strict by the operator).
async fn all_children_exist(admin: &Client, value: &Value) -> bool {
    let p: BlackFridayPipeline = serde_json::from_value(value.clone()).unwrap();
    let desired = render_pipeline(&p).unwrap();
    for child in &desired.children {
        if child.kind == ChildKind::VerticalPodAutoscaler || is_kafka_ca_copy(child) {
            continue;
        }
        if get(admin, child.kind, child.namespace(), child.name())
            .await
            .is_none()
        {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_lifecycle_against_the_real_apiserver() {
    let Some((admin, operator)) = bench().await else {
        support::missing_bench("no KUBECONFIG (start the bench: scripts/testbed/k8s.sh start)");
        return;
    };
    // Our CRD and config/rbac (which creates the tier namespaces; Grafana's exists first).
    install(&admin).await;
    // A clean slate: a pipeline left from an aborted run would confuse the counts below.
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    pipeline_gone(&admin, NAME).await;
    // Its children are garbage-collected; what an aborted run retained is removed as a user would.
    eventually("no child of an earlier run is left", GC_WAIT, || {
        no_children_left(&admin)
    })
    .await;

    // Every password the Secrets ever held, watched from before the pipeline exists.
    let passwords = record_passwords(&admin);
    let controller = Some(RunningController::start(operator.clone()));
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), "ingest");
    let mut ctx = Lifecycle {
        spec: sample_value(),
        admin,
        operator,
        api,
        passwords,
        controller,
        deployments,
    };

    step_1_sample_children_and_status(&mut ctx).await;
    step_1a_one_reconcile_at_a_time(&mut ctx).await;
    step_1b_registry_pull_secret(&mut ctx).await;
    step_2_experiment_knobs(&mut ctx).await;
    step_3_valkey_scale_down_prunes(&mut ctx).await;
    step_4_specs_the_api_server_refuses(&mut ctx).await;
    step_5_spec_the_operator_cannot_use(&mut ctx).await;
    step_6_absent_foreign_crd(&mut ctx).await;
    step_7_paused(&mut ctx).await;
    step_8_operator_restarted(&mut ctx).await;
    step_9_retention(&mut ctx).await;
    step_10_delete_the_pipeline(&mut ctx).await;
    let Lifecycle {
        admin, controller, ..
    } = &mut ctx;
    controller.take().expect("the operator runs").stop().await;

    // Leave the bench as found: other suites check that the operator identity has no grants.
    remove_grants(&admin).await;
}

/// What the steps of the lifecycle test share: one pipeline on one apiserver, its spec as the
/// user last applied it, and the operator under test (stopped and started again in step 8).
/// The steps run in order; each starts from the state the previous one left.
struct Lifecycle {
    admin: Client,
    operator: Client,
    api: Api<BlackFridayPipeline>,
    passwords: Arc<Mutex<BTreeSet<String>>>,
    controller: Option<RunningController>,
    spec: Value,
    deployments: Api<Deployment>,
}

/// 1. The sample: every child exists, passed strict validation, and status tells the truth.
async fn step_1_sample_children_and_status(ctx: &mut Lifecycle) {
    let Lifecycle {
        admin,
        spec,
        deployments,
        ..
    } = ctx;
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("every child of the sample exists", WAIT, || {
        all_children_exist(&admin, &spec)
    })
    .await;
    eventually("status is written for generation 1", WAIT, || async {
        let p = pipeline(&admin).await;
        p.status.as_ref().and_then(|s| s.observed_generation) == p.metadata.generation
            && condition(&p, "Kafka").is_some()
    })
    .await;
    let p = pipeline(&admin).await;
    // Nothing was refused by the API server.
    let degraded = condition(&p, "Degraded").unwrap();
    assert_eq!(degraded.0, "False", "Degraded: {degraded:?}");
    // No kubelet and no Strimzi/KubeVirt operators in the bench: not ready, and saying why.
    assert_eq!(condition(&p, "Ready").unwrap().0, "False");
    assert_eq!(condition(&p, "Progressing").unwrap().0, "True");
    let kafka = condition(&p, "Kafka").unwrap();
    assert_eq!(
        (kafka.0.as_str(), kafka.1.as_str()),
        ("False", "KafkaNotReady"),
        "{kafka:?}"
    );
    let valkey = condition(&p, "Valkey").unwrap();
    assert_eq!(
        (valkey.0.as_str(), valkey.1.as_str()),
        ("False", "VirtualMachinesNotReady"),
        "{valkey:?}"
    );
    assert!(valkey.2.contains("0/2 VMs ready"), "{valkey:?}");
    let rust_api = condition(&p, "RustApi").unwrap();
    assert_eq!(rust_api.0, "False");
    assert!(rust_api.2.contains("replicas available"), "{rust_api:?}");
    assert_eq!(condition(&p, "Grafana").unwrap().0, "True");
    // Kafka authentication: the KafkaUsers passed Strimzi's schema (above: Degraded is False);
    // without Strimzi there is no cluster CA, so the operator wrote no CA copy (the pods wait for
    // it) rather than inventing one.
    for user in ["grpc-server-1", "grpc-server-2", "consumer"] {
        assert!(
            get(&admin, ChildKind::KafkaUser, Some("ingest"), user)
                .await
                .is_some(),
            "KafkaUser {user}"
        );
    }
    assert!(get(
        &admin,
        ChildKind::Secret,
        Some("ingest"),
        blackfriday_operator::names::KAFKA_CA_COPY
    )
    .await
    .is_none());
    // HPA-owned Deployments were applied without replicas: our manager does not own the field.
    let rust_api_dep = deployments.get("rust-api").await.unwrap();
    let owns_replicas = rust_api_dep
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .any(|m| {
            m.manager.as_deref() == Some("blackfriday-operator")
                && m.fields_v1.as_ref().is_some_and(|f| {
                    f.0.get("f:spec")
                        .and_then(|s| s.get("f:replicas"))
                        .is_some()
                })
        });
    assert!(!owns_replicas, "rust-api replicas belong to its HPA");
    // Every child is owned by the pipeline (garbage collection).
    let vm = get(
        &admin,
        ChildKind::VirtualMachine,
        Some("valkey"),
        "valkey-0",
    )
    .await
    .unwrap();
    assert_eq!(vm.metadata.owner_references.unwrap()[0].name, NAME);
    // Once the children settle (the deployment controller reports) the object goes quiet.
    eventually("the pipeline object stops changing", WAIT, || async {
        let before = pipeline(&admin).await.metadata.resource_version;
        tokio::time::sleep(Duration::from_secs(4)).await;
        pipeline(&admin).await.metadata.resource_version == before
    })
    .await;
}

/// 1a. One pipeline, one reconcile at a time (issue 15, item 3): the creation wrote one
/// password, never replaced, and rolled no Deployment twice (generation 1, one ReplicaSet).
async fn step_1a_one_reconcile_at_a_time(ctx: &mut Lifecycle) {
    let Lifecycle {
        admin,
        passwords,
        controller,
        deployments,
        ..
    } = ctx;
    assert_eq!(
        controller
            .as_ref()
            .expect("the operator runs")
            .metrics
            .overlaps(),
        0,
        "two reconciles of one pipeline ran at once"
    );
    let written = passwords.lock().unwrap().clone();
    assert_eq!(
        written.len(),
        1,
        "valkey-auth held several passwords: {written:?}"
    );
    let replica_sets: Api<ReplicaSet> = Api::namespaced(admin.clone(), "ingest");
    eventually("every Deployment has its ReplicaSet", WAIT, || async {
        let sets = replica_sets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items;
        let deployments = deployments
            .list(&ListParams::default())
            .await
            .unwrap()
            .items;
        deployments.iter().all(|d| {
            sets.iter().any(|rs| {
                rs.owner_references()
                    .iter()
                    .any(|o| o.uid == d.uid().unwrap_or_default())
            })
        })
    })
    .await;
    let sets = replica_sets
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    for d in deployments
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        let owned = sets
            .iter()
            .filter(|rs| {
                rs.owner_references()
                    .iter()
                    .any(|o| o.uid == d.uid().unwrap_or_default())
            })
            .count();
        assert_eq!(
            (d.metadata.generation, owned),
            (Some(1), 1),
            "Deployment {} was written more than once at creation",
            d.name_any()
        );
    }

    // Status is deterministic: reconciles with nothing changed write nothing. Each round changes
    // a child (an annotation the operator does not own), waits for the reconcile that the child
    // watch must cause, and the pipeline object has still not changed.
    let quiet = pipeline(&admin).await.metadata.resource_version;
    for round in 1..=3 {
        let before = controller.as_ref().expect("the operator runs").reconciled();
        touch_child(&admin, round).await;
        eventually("the touched child is reconciled", WAIT, || async {
            controller.as_ref().expect("the operator runs").reconciled() > before
        })
        .await;
    }
    assert_eq!(
        pipeline(&admin).await.metadata.resource_version,
        quiet,
        "a reconcile with nothing changed wrote the pipeline"
    );

    // Drift: a child deleted by hand is put back. There is no periodic resync in this test,
    // so only the child watch can bring it back.
    api_for(&admin, ChildKind::Service, Some("ingest"))
        .delete("rust-api", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the deleted Service is recreated", WAIT, || async {
        get(&admin, ChildKind::Service, Some("ingest"), "rust-api")
            .await
            .is_some_and(|s| s.metadata.deletion_timestamp.is_none())
    })
    .await;
}

/// 1b. The registry pull Secret: missing → the Registry condition says so and nothing is
/// copied; created → copied (type and data) into every namespace that pulls, and the
/// Deployments reference it; dropped from the spec → the copies are pruned.
async fn step_1b_registry_pull_secret(ctx: &mut Lifecycle) {
    let Lifecycle {
        admin,
        spec,
        deployments,
        ..
    } = ctx;
    let sources: Api<Secret> = Api::namespaced(admin.clone(), "blackfriday-system");
    let _ = sources.delete("zot-pull", &DeleteParams::default()).await;
    eventually("no zot-pull Secret from an earlier run", WAIT, || async {
        sources.get_opt("zot-pull").await.unwrap().is_none()
    })
    .await;
    spec["spec"]["registry"]["pullSecret"] =
        json!({"name": "zot-pull", "namespace": "blackfriday-system"});
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("Registry says the pull Secret is missing", WAIT, || async {
        condition(&pipeline(&admin).await, "Registry").is_some_and(|(s, r, m)| {
            s == "False"
                && r == "PullSecretMissing"
                && m.contains("spec.registry.pullSecret")
                && m.contains("blackfriday-system/zot-pull")
        })
    })
    .await;
    for ns in ["ingest", "kafka", "valkey"] {
        assert!(
            get(&admin, ChildKind::Secret, Some(ns), "blackfriday-registry")
                .await
                .is_none(),
            "no copy of a missing Secret in {ns}"
        );
    }
    let docker =
        json!({"auths": {"zot.blackfriday.internal:5000": {"auth": "dXNlcjpwYXNz"}}}).to_string();
    let source: Secret = serde_json::from_value(json!({
        "metadata": {"name": "zot-pull"},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": docker},
    }))
    .unwrap();
    sources
        .create(&PostParams::default(), &source)
        .await
        .unwrap();
    // The source is not a child (nothing watches it): an event on the pipeline reconciles.
    touch_pipeline(&admin, "pull-secret-created").await;
    eventually("the pull Secret is copied", WAIT, || async {
        let registry = condition(&pipeline(&admin).await, "Registry");
        let mut copied = registry.is_some_and(|(s, r, _)| s == "True" && r == "PullSecretCopied");
        for ns in ["ingest", "kafka", "valkey"] {
            let copy = Api::<Secret>::namespaced(admin.clone(), ns)
                .get_opt("blackfriday-registry")
                .await
                .unwrap();
            copied &= copy.is_some_and(|c| {
                c.type_.as_deref() == Some("kubernetes.io/dockerconfigjson")
                    && c.data
                        .unwrap_or_default()
                        .get(".dockerconfigjson")
                        .is_some_and(|v| v.0 == docker.as_bytes())
            });
        }
        copied
    })
    .await;
    let pod = deployments
        .get("consumer")
        .await
        .unwrap()
        .spec
        .unwrap()
        .template
        .spec
        .unwrap();
    assert!(
        pod.image_pull_secrets
            .unwrap_or_default()
            .iter()
            .any(|r| r.name == "blackfriday-registry"),
        "the consumer pulls with the copy"
    );
    spec["spec"]["registry"]
        .as_object_mut()
        .unwrap()
        .remove("pullSecret");
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("the copies are pruned with the setting", WAIT, || async {
        let mut all = true;
        for ns in ["ingest", "kafka", "valkey"] {
            all &= gone(&admin, ChildKind::Secret, Some(ns), "blackfriday-registry").await;
        }
        all
    })
    .await;
    sources
        .delete("zot-pull", &DeleteParams::default())
        .await
        .unwrap();
}

/// 2. Experiment knobs: writers, Valkey replicas, partitions, forward mode → children follow.
async fn step_2_experiment_knobs(ctx: &mut Lifecycle) {
    let Lifecycle {
        admin,
        spec,
        deployments,
        ..
    } = ctx;
    spec["spec"]["grpcServer1"]["replicas"] = json!(2);
    spec["spec"]["valkey"]["replicas"] = json!(3);
    spec["spec"]["kafka"]["topic"]["partitions"] = json!(6);
    spec["spec"]["rustApi"]["forwardMode"] = json!("grpc");
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("the children follow the edit", WAIT, || async {
        let writer = deployments.get("grpc-server-1").await.unwrap();
        let topic = get(&admin, ChildKind::KafkaTopic, Some("kafka"), "ventas")
            .await
            .unwrap();
        let rust_api = deployments.get("rust-api").await.unwrap();
        let env = rust_api.spec.unwrap().template.spec.unwrap().containers[0]
            .env
            .clone()
            .unwrap_or_default();
        writer.spec.unwrap().replicas == Some(2)
            && get(
                &admin,
                ChildKind::VirtualMachine,
                Some("valkey"),
                "valkey-2",
            )
            .await
            .is_some()
            && topic.data["spec"]["partitions"] == 6
            && env
                .iter()
                .any(|e| e.name == "FORWARD_MODE" && e.value.as_deref() == Some("grpc"))
    })
    .await;
}

/// 3. Valkey 3 → 1: VMs 1 and 2 and their data PVCs are pruned (retention Delete).
async fn step_3_valkey_scale_down_prunes(ctx: &mut Lifecycle) {
    let Lifecycle { admin, spec, .. } = ctx;
    spec["spec"]["valkey"]["replicas"] = json!(1);
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually(
        "valkey-1 and valkey-2 are pruned with their PVCs",
        WAIT,
        || async {
            gone(
                &admin,
                ChildKind::VirtualMachine,
                Some("valkey"),
                "valkey-1",
            )
            .await
                && gone(
                    &admin,
                    ChildKind::VirtualMachine,
                    Some("valkey"),
                    "valkey-2",
                )
                .await
                && gone(
                    &admin,
                    ChildKind::PersistentVolumeClaim,
                    Some("valkey"),
                    "valkey-data-2",
                )
                .await
                && get(
                    &admin,
                    ChildKind::VirtualMachine,
                    Some("valkey"),
                    "valkey-0",
                )
                .await
                .is_some()
        },
    )
    .await;
}

/// 4. Specs the API server refuses (schema + CEL).
async fn step_4_specs_the_api_server_refuses(ctx: &mut Lifecycle) {
    let Lifecycle { admin, spec, .. } = ctx;
    for (what, patch) in [
        (
            "min > max",
            json!({"grpcClient": {"autoscaling": {"minReplicas": 3, "maxReplicas": 1}}}),
        ),
        ("replicas < 0", json!({"grpcServer2": {"replicas": -1}})),
        (
            "unknown category",
            json!({"grafana": {"featuredCategory": "Juguetes"}}),
        ),
        (
            "partitions < 1",
            json!({"kafka": {"topic": {"partitions": 0}}}),
        ),
        (
            "partitions decrease",
            json!({"kafka": {"topic": {"partitions": 2}}}),
        ),
        (
            "replicas and autoscaling",
            json!({"consumer": {"replicas": 2, "autoscaling": {"minReplicas": 1, "maxReplicas": 2}}}),
        ),
    ] {
        let mut bad = spec.clone();
        json_merge(&mut bad["spec"], &patch);
        let err = apply_pipeline(&admin, &bad).await.expect_err(what);
        assert!(
            matches!(err, kube::Error::Api(ref s) if s.code == 422),
            "{what}: {err}"
        );
    }
    // The VPA/HPA conflict (issue 12): refused by the CRD's CEL rule, the error naming the field
    // through the rule's fieldPath. The sample scales grpcClient and consumer with CPU HPAs.
    let mut bad = spec.clone();
    json_merge(
        &mut bad["spec"],
        &json!({"vpa": {"enabled": true, "updateMode": "Recreate"}}),
    );
    let err = apply_pipeline(&admin, &bad)
        .await
        .expect_err("VPA Recreate with CPU HPAs");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("spec.vpa.updateMode")),
        "VPA Recreate with CPU HPAs: {err}"
    );
}

/// 5. A spec the schema accepts but the operator cannot use: Degraded + Warning Event, named field.
async fn step_5_spec_the_operator_cannot_use(ctx: &mut Lifecycle) {
    let Lifecycle { admin, spec, .. } = ctx;
    let mut bad = spec.clone();
    bad["spec"]["valkey"]["memory"] = json!("lots");
    apply_pipeline(&admin, &bad).await.unwrap();
    eventually("Degraded names spec.valkey.memory", WAIT, || async {
        let p = pipeline(&admin).await;
        condition(&p, "Degraded").is_some_and(|(s, r, m)| {
            s == "True" && r == "InvalidSpec" && m.contains("spec.valkey.memory")
        })
    })
    .await;
    eventually("a Warning event names the field", WAIT, || async {
        let events: Api<Event> = Api::all(admin.clone());
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .any(|e| {
                e.reason.as_deref() == Some("InvalidSpec")
                    && e.type_.as_deref() == Some("Warning")
                    && e.note
                        .as_deref()
                        .is_some_and(|n| n.contains("spec.valkey.memory"))
            })
    })
    .await;
    // A second, different mistake: the Warning says this one, not the first (issue 15, item 4).
    let mut bad = spec.clone();
    bad["spec"]["valkey"]["storage"]["size"] = json!("plenty");
    apply_pipeline(&admin, &bad).await.unwrap();
    let uid = pipeline(&admin).await.metadata.uid.unwrap();
    eventually(
        "the Warning of the second edit names spec.valkey.storage.size",
        WAIT,
        || async {
            has_event(
                &events_of(&admin, &uid).await,
                "Warning",
                "InvalidSpec",
                "spec.valkey.storage.size",
            )
        },
    )
    .await;
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("fixing the spec clears Degraded", WAIT, || async {
        condition(&pipeline(&admin).await, "Degraded").is_some_and(|(s, _, _)| s == "False")
    })
    .await;
}

/// 6. A foreign CRD that is absent: the VPA CRD is not in the bench.
async fn step_6_absent_foreign_crd(ctx: &mut Lifecycle) {
    let Lifecycle {
        admin,
        operator,
        spec,
        ..
    } = ctx;
    let mut with_vpa = spec.clone();
    with_vpa["spec"]["vpa"] = json!({"enabled": true});
    apply_pipeline(&admin, &with_vpa).await.unwrap();
    eventually(
        "the Vpa condition says the CRD is missing, the rest still applied",
        WAIT,
        || async {
            let p = pipeline(&admin).await;
            condition(&p, "Vpa").is_some_and(|(s, r, m)| {
                s == "False" && r == "VpaNotInstalled" && m.contains("autoscaling.k8s.io/v1")
            }) && condition(&p, "Degraded")
                .is_some_and(|(s, r, _)| s == "True" && r == "VpaNotInstalled")
        },
    )
    .await;
    assert!(all_children_exist(&admin, &with_vpa).await);
    // Discovery itself, against the real API server.
    assert!(
        discovery::serves(&operator, "kafka.strimzi.io/v1", &["kafkas", "kafkatopics"])
            .await
            .unwrap()
    );
    assert!(
        discovery::serves(&operator, "kubevirt.io/v1", &["virtualmachines"])
            .await
            .unwrap()
    );
    assert!(
        !discovery::serves(&operator, "nothing.blackfriday.dev/v1", &["things"])
            .await
            .unwrap()
    );
    apply_pipeline(&admin, &spec).await.unwrap();
}

/// 7. Paused: edits are not applied, the status says so; unpausing applies them.
async fn step_7_paused(ctx: &mut Lifecycle) {
    let Lifecycle {
        admin,
        controller,
        spec,
        deployments,
        ..
    } = ctx;
    let uid = pipeline(&admin).await.metadata.uid.unwrap();
    spec["spec"]["paused"] = json!(true);
    spec["spec"]["grpcServer2"]["replicas"] = json!(4);
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("Paused=True", WAIT, || async {
        condition(&pipeline(&admin).await, "Paused").is_some_and(|(s, _, _)| s == "True")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        deployments
            .get("grpc-server-2")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(2),
        "paused: no apply"
    );
    spec["spec"]["paused"] = json!(false);
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("unpaused: the edit lands", WAIT, || async {
        deployments
            .get("grpc-server-2")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas
            == Some(4)
            && condition(&pipeline(&admin).await, "Paused").is_some_and(|(s, _, _)| s == "False")
    })
    .await;
    // Every generation applied says which one: the Event of this one names it.
    let generation = pipeline(&admin).await.metadata.generation.unwrap();
    assert!(generation > 2, "several edits were applied by now");
    eventually(
        "the Applied Event names the current generation",
        WAIT,
        || async {
            has_event(
                &events_of(&admin, &uid).await,
                "Normal",
                "Applied",
                &format!("for generation {generation}"),
            )
        },
    )
    .await;
    assert_eq!(
        controller
            .as_ref()
            .expect("the operator runs")
            .metrics
            .overlaps(),
        0,
        "two reconciles of one pipeline ran at once"
    );
}

/// 8. Operator restarted mid-way: an edit made while it is down is picked up on start.
async fn step_8_operator_restarted(ctx: &mut Lifecycle) {
    let Lifecycle {
        admin,
        operator,
        controller,
        spec,
        deployments,
        ..
    } = ctx;
    controller.take().expect("the operator runs").stop().await;
    spec["spec"]["grpcServer2"]["replicas"] = json!(3);
    spec["spec"]["grpcClient"] = json!({"replicas": 2, "writerRoute": "grpc-server-2"});
    apply_pipeline(&admin, &spec).await.unwrap();
    *controller = Some(RunningController::start(operator.clone()));
    eventually("the restarted operator converges", WAIT, || async {
        let writer2 = deployments.get("grpc-server-2").await.unwrap();
        let client = deployments.get("grpc-client").await.unwrap();
        let p = pipeline(&admin).await;
        writer2.spec.unwrap().replicas == Some(3)
            && client.spec.unwrap().replicas == Some(2)
            // grpc-client switched from its HPA to fixed replicas: the HPA is pruned.
            && gone(&admin, ChildKind::HorizontalPodAutoscaler, Some("ingest"), "grpc-client").await
            && p.status.as_ref().and_then(|s| s.observed_generation) == p.metadata.generation
            && p.status.as_ref().and_then(|s| s.writer_replicas) == Some(5)
    })
    .await;
    assert!(all_children_exist(&admin, &spec).await);
}

/// 9. Retention: with `onDelete: Retain` the data PVC, its password and the valkey namespace
/// lose their ownerReference (SSA drops what we no longer set) and outlive the pipeline.
async fn step_9_retention(ctx: &mut Lifecycle) {
    let Lifecycle { admin, spec, .. } = ctx;
    spec["spec"]["valkey"]["storage"]["onDelete"] = json!("Retain");
    apply_pipeline(&admin, &spec).await.unwrap();
    eventually("the data PVC is no longer owned", WAIT, || async {
        let pvc = get(
            &admin,
            ChildKind::PersistentVolumeClaim,
            Some("valkey"),
            "valkey-data-0",
        )
        .await
        .unwrap();
        let ns = get(&admin, ChildKind::Namespace, None, "valkey")
            .await
            .unwrap();
        pvc.metadata.owner_references.unwrap_or_default().is_empty()
            && ns.metadata.owner_references.unwrap_or_default().is_empty()
    })
    .await;
}

/// 10. Delete the pipeline: the garbage collector removes every owned child.
async fn step_10_delete_the_pipeline(ctx: &mut Lifecycle) {
    let Lifecycle { admin, api, .. } = ctx;
    api.delete(NAME, &DeleteParams::default()).await.unwrap();
    eventually(
        "children are garbage-collected, retained data stays",
        GC_WAIT,
        || async {
            gone(&admin, ChildKind::Deployment, Some("ingest"), "rust-api").await
                && gone(&admin, ChildKind::Kafka, Some("kafka"), "blackfriday").await
                && gone(
                    &admin,
                    ChildKind::VirtualMachine,
                    Some("valkey"),
                    "valkey-0",
                )
                .await
                && gone(&admin, ChildKind::Service, Some("valkey"), "valkey-primary").await
                && gone(
                    &admin,
                    ChildKind::Secret,
                    Some("grafana"),
                    "blackfriday-valkey-datasource",
                )
                .await
                && gone(
                    &admin,
                    ChildKind::ConfigMap,
                    Some("grafana"),
                    "blackfriday-dashboard",
                )
                .await
        },
    )
    .await;
    let pvc = get(
        &admin,
        ChildKind::PersistentVolumeClaim,
        Some("valkey"),
        "valkey-data-0",
    )
    .await;
    assert!(
        pvc.is_some_and(|p| p.metadata.deletion_timestamp.is_none()),
        "retained PVC must survive"
    );
    assert!(
        get(&admin, ChildKind::Secret, Some("valkey"), "valkey-auth")
            .await
            .is_some(),
        "its password too"
    );
    // The namespaces outlive the pipeline: they belong to the install and hold its RoleBindings
    // for the operator (deleting the pipeline must not take the operator's rights with it).
    for ns in ["ingest", "kafka", "valkey"] {
        let binding: Api<k8s_openapi::api::rbac::v1::RoleBinding> =
            Api::namespaced(admin.clone(), ns);
        assert!(
            binding
                .get_opt("blackfriday-operator")
                .await
                .unwrap()
                .is_some(),
            "the RoleBinding in {ns} survives the pipeline"
        );
    }
    // Clean up what was retained, as a user would once the data is no longer needed.
    eventually("the retained data is removed", GC_WAIT, || {
        no_children_left(&admin)
    })
    .await;
}

/// An annotation change on the pipeline: its watch reconciles it, the spec stays.
async fn touch_pipeline(admin: &Client, value: &str) {
    Api::<BlackFridayPipeline>::all(admin.clone())
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"test.blackfriday.dev/touch": value}}}),
            ),
        )
        .await
        .unwrap();
}

fn json_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                json_merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[test]
fn parse_of_the_sample_is_the_one_the_cluster_test_uses() {
    // Keeps sample_value() honest without a cluster.
    let text = std::fs::read_to_string(repo("config/samples/pipeline.yaml")).unwrap();
    assert_eq!(
        parse_pipeline(&text).unwrap().metadata.name.as_deref(),
        Some(NAME)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_election_hands_over_under_the_operator_identity() {
    use blackfriday_operator::leader::{release, try_acquire_or_renew, LeaseConfig};
    let Some((admin, operator)) = bench().await else {
        support::missing_bench("no KUBECONFIG");
        return;
    };
    apply_file(&admin, "config/manager/namespace.yaml").await;
    apply_file(&admin, "config/rbac/leader_election_role.yaml").await;
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(admin.clone(), "blackfriday-system");
    let _ = leases
        .delete("blackfriday-operator", &DeleteParams::default())
        .await;

    let mut a = LeaseConfig::new("blackfriday-system", "replica-a");
    a.duration = Duration::from_secs(2);
    let mut b = a.clone();
    b.identity = "replica-b".into();
    // RBAC bindings take a moment to reach the authorizer.
    eventually("replica-a leads", WAIT, || async {
        try_acquire_or_renew(&operator, &a).await.unwrap_or(false)
    })
    .await;
    assert!(
        !try_acquire_or_renew(&operator, &b).await.unwrap(),
        "b must wait while a renews"
    );
    assert!(
        try_acquire_or_renew(&operator, &a).await.unwrap(),
        "a renews"
    );
    // a stops renewing: after the lease duration b takes over.
    eventually(
        "replica-b takes over an expired lease",
        Duration::from_secs(10),
        || async { try_acquire_or_renew(&operator, &b).await.unwrap() },
    )
    .await;
    assert!(
        !try_acquire_or_renew(&operator, &a).await.unwrap(),
        "a lost it"
    );
    // A graceful release hands over at once.
    release(&operator, &b).await.unwrap();
    assert!(try_acquire_or_renew(&operator, &a).await.unwrap());
    let lease = leases.get("blackfriday-operator").await.unwrap();
    assert_eq!(lease.spec.unwrap().lease_transitions, Some(2));

    // Leave the bench as found (other suites check the operator identity has no grants).
    let bindings: Api<k8s_openapi::api::rbac::v1::RoleBinding> =
        Api::namespaced(admin.clone(), "blackfriday-system");
    bindings
        .delete(
            "blackfriday-operator-leader-election",
            &DeleteParams::default(),
        )
        .await
        .unwrap();
    let _ = leases
        .delete("blackfriday-operator", &DeleteParams::default())
        .await;
}

/// The install command the start-up error recommends (`run::INSTALL_CRD`) works as written, run
/// from the repository root with the real kubectl against the bench (issue 15, item 5: it said
/// `kubectl apply -f crds/`, which fails on crds/kustomization.yaml).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_hint_installs_the_crd_with_kubectl() {
    let Some((admin, _)) = bench().await else {
        support::missing_bench("no KUBECONFIG");
        return;
    };
    let mut words = INSTALL_CRD.split_whitespace();
    assert_eq!(words.next(), Some("kubectl"), "{INSTALL_CRD}");
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let out = std::process::Command::new(&kubectl)
        .args(words)
        .current_dir(repo(""))
        .env("KUBECONFIG", std::env::var("KUBECONFIG").unwrap())
        .output()
        .unwrap_or_else(|e| panic!("running {kubectl} (set KUBECTL to its path): {e}"));
    assert!(
        out.status.success(),
        "`{INSTALL_CRD}` failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("the CRD is served", WAIT, || async {
        Api::<BlackFridayPipeline>::all(admin.clone())
            .list(&ListParams::default().limit(1))
            .await
            .is_ok()
    })
    .await;
}
