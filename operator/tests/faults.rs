//! Faults during a reconcile, against the bench's real kube-apiserver (issue 14): the operator
//! binary SIGKILLed while it applies a pipeline's children, and the kube-apiserver SIGKILLed (and
//! started again on its etcd) while it does. After each, the pipeline must converge to exactly the
//! children an undisturbed reconcile of the same spec produced: the same set of objects (listed by
//! the ownership labels, every kind) and, per object, the same content (a SHA-256 over everything
//! but the server's bookkeeping: see `content`).
//!
//! Ignored by default: it restarts the bench's kube-apiserver, which other tests use. Run by
//! scripts/test.d/65-faults.sh (`cargo test -p blackfriday-operator --test faults -- --ignored`);
//! needs KUBECONFIG / KUBECONFIG_OPERATOR from the bench and the bench's scripts/testbed/k8s.sh.
//!
//! The operator runs as its own process (the built binary, `run`, under the operator's RBAC), so
//! SIGKILL is real: no destructor, no graceful drain. The kill is aimed at the middle of the apply
//! loop: a watch on the Grafana dashboard ConfigMap (the first child the new spec changes, early
//! in the apply order) fires on its change and kills at once; how many children had been updated is counted afterwards, and a
//! kill that landed before the first or after the last child is tried again (at most 5 times),
//! so the test only passes having killed mid-apply.

mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use blackfriday_operator::crd::BlackFridayPipeline;
use blackfriday_operator::kinds::ChildKind;
use blackfriday_operator::names;
use blackfriday_operator::reconcile::apply::api_for;
use support::*;

const NAME: &str = "bf-faults";
const INGEST: &str = "flt-ingest";
const KAFKA: &str = "flt-kafka";
const VALKEY: &str = "flt-valkey";
const GRAFANA: &str = "flt-grafana";
const TAG_A: &str = "0.1.0";
const TAG_B: &str = "0.2.0";

/// Two specs that differ in many children: the carnet (the dashboard ConfigMap, the consumer's
/// featured category), the image tag (every Deployment, the Valkey VMs), the writers' replicas
/// and the consumer group. (Not the topic's partitions: the CRD refuses a
/// decrease, and the test walks A → B → A.)
fn spec(tag: &str) -> Value {
    let b = tag == TAG_B;
    json!({
        "apiVersion": "blackfriday.dev/v1alpha1",
        "kind": "BlackFridayPipeline",
        "metadata": {"name": NAME},
        "spec": {
            "namespaces": {"ingest": INGEST, "kafka": KAFKA, "valkey": VALKEY},
            "grafana": {"namespace": GRAFANA, "carnet": if b { "202300538" } else { "202300539" }},
            "registry": {"tag": tag},
            "grpcServer2": {"replicas": if b { 3 } else { 2 }},
            "consumer": {"group": if b { "ventas-b" } else { "ventas-a" }},
            "valkey": {"mode": "managed", "replicas": 2}
        }
    })
}

async fn apply_spec(admin: &Client, tag: &str) -> i64 {
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    let stored = api
        .patch(
            NAME,
            &PatchParams::apply("blackfriday-test").force(),
            &Patch::Apply(&spec(tag)),
        )
        .await
        .expect("applying the pipeline");
    stored.metadata.generation.expect("a generation")
}

/// Kind/namespace/name → SHA-256 of the object's content.
type Children = BTreeMap<String, String>;

/// What the operator decides about an object: everything but the server's bookkeeping, i.e.
/// without `status` and with only labels, annotations and ownerReferences kept of the metadata
/// (not resourceVersion, generation, uid, timestamps, managedFields), and without the
/// Deployment controller's `deployment.kubernetes.io/revision` annotation, which counts rollouts
/// (an A → B → A walk is revision 3 where A alone was 1).
fn content(mut object: Value) -> Value {
    let map = object.as_object_mut().expect("an object");
    map.remove("status");
    let metadata = map.remove("metadata").unwrap_or(Value::Null);
    let mut annotations = metadata["annotations"].clone();
    if let Some(a) = annotations.as_object_mut() {
        a.retain(|k, _| !k.starts_with("deployment.kubernetes.io/"));
    }
    map.insert(
        "metadata".into(),
        json!({
            "labels": metadata["labels"],
            "annotations": annotations,
            "ownerReferences": metadata["ownerReferences"],
        }),
    );
    object
}

fn digest(value: &Value) -> String {
    // serde_json's Map is ordered by key (no preserve_order feature): the text is canonical
    let text = serde_json::to_string(value).unwrap();
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Every child of the pipeline, by the labels pruning lists them with.
async fn children(admin: &Client) -> (Children, BTreeMap<String, Value>) {
    let selector = ListParams::default().labels(&names::ownership_selector(NAME));
    let mut hashes = Children::new();
    let mut objects = BTreeMap::new();
    for kind in ChildKind::ALL {
        let list = match api_for(admin, kind, None).list(&selector).await {
            Ok(list) => list,
            Err(kube::Error::Api(status)) if status.code == 404 => continue, // kind not served
            Err(e) => panic!("listing {}: {e}", kind.kind()),
        };
        for item in list.items {
            if item.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let key = format!(
                "{}/{}/{}",
                kind.kind(),
                item.metadata.namespace.as_deref().unwrap_or("-"),
                item.name_any()
            );
            let body = content(serde_json::to_value(&item).unwrap());
            hashes.insert(key.clone(), digest(&body));
            objects.insert(key, body);
        }
    }
    (hashes, objects)
}

/// The pipeline's status says it reconciled `generation` (written at the end of a reconcile).
async fn observed(admin: &Client, generation: i64) -> bool {
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    match api.get_opt(NAME).await {
        Ok(Some(p)) => p.status.and_then(|s| s.observed_generation) == Some(generation),
        _ => false,
    }
}

/// Undisturbed: wait until `generation` is reconciled and the children stop changing.
async fn settled(admin: &Client, generation: i64) -> Children {
    eventually(
        &format!("generation {generation} is reconciled"),
        WAIT,
        || observed(admin, generation),
    )
    .await;
    let mut last = children(admin).await.0;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = children(admin).await.0;
        if now == last {
            return now;
        }
        last = now;
    }
}

/// After a fault: converges to `want` (the undisturbed result of the same spec), or fails with
/// the differences.
async fn converges(
    admin: &Client,
    generation: i64,
    want: &Children,
    reference: &BTreeMap<String, Value>,
    what: &str,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        if observed(admin, generation).await {
            let (got, objects) = children(admin).await;
            if &got == want {
                println!(
                    "{what}: converged to the same {} children as the undisturbed reconcile",
                    want.len()
                );
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
                let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
                let differ: Vec<_> = want
                    .keys()
                    .filter(|k| got.get(*k).is_some_and(|h| h != &want[*k]))
                    .map(|k| format!("{k}:\n  want {}\n  got  {}", reference[k], objects[k]))
                    .collect();
                panic!("{what}: children differ from the undisturbed reconcile\nmissing {missing:?}\nextra {extra:?}\ndiffer:\n{}", differ.join("\n"));
            }
        } else if tokio::time::Instant::now() > deadline {
            panic!("{what}: generation {generation} never reconciled within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// How many of `want`'s children are already as `want` has them.
fn agreeing(got: &Children, want: &Children) -> usize {
    want.iter().filter(|(k, h)| got.get(*k) == Some(h)).count()
}

fn out_dir() -> std::path::PathBuf {
    let dir = match std::env::var("BF_TEST_OUT") {
        Ok(d) if d.starts_with('/') => std::path::PathBuf::from(d),
        Ok(d) => std::path::PathBuf::from(repo(&d)),
        Err(_) => std::env::temp_dir(),
    }
    .join("operator-faults");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The operator binary, `run`, as its own process under the operator's identity. Killed when
/// dropped, also when the test panics: a survivor would keep reconciling the next run's pipeline
/// and hide what the operator under test did.
struct Operator(Child);

impl Operator {
    fn start(n: usize) -> Self {
        let log = out_dir().join(format!("operator-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_blackfriday-operator"))
            .args(["run", "--admin-addr", "127.0.0.1:0"])
            .env("KUBECONFIG", std::env::var("KUBECONFIG_OPERATOR").unwrap())
            // the namespaces grant_namespaces installed, as the Deployment tells it
            .env("BF_TIER_NAMESPACES", [INGEST, KAFKA, VALKEY].join(","))
            .env("BF_GRAFANA_NAMESPACE", GRAFANA)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("starting the operator binary");
        println!(
            "operator process {n} (pid {}), log {}",
            child.id(),
            log.display()
        );
        Self(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Reaps a process the test SIGKILLed.
    fn reap(&mut self) {
        let _ = self.0.wait();
    }

    fn assert_alive(&mut self, what: &str) {
        if let Some(status) = self.0.try_wait().unwrap() {
            panic!("{what}: the operator process exited ({status}) instead of riding it out");
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sigkill(pid: u32) {
    let ok = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -KILL {pid}");
}

/// Runs `act` (which changes the spec), and SIGKILLs `pid` the moment the Grafana dashboard
/// ConfigMap changes: the first child the new spec changes in apply order (kind 4 of 14, before
/// the Services, Deployments, HPAs, Ingress, Kafka objects and VMs), so the operator is in the
/// middle of its apply loop.
async fn kill_at_first_change<F, Fut>(admin: &Client, pid: u32, act: F) -> i64
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let config_maps: Api<ConfigMap> = Api::namespaced(admin.clone(), GRAFANA);
    let config = watcher::Config::default().labels(&names::ownership_selector(NAME));
    let mut stream = watcher(config_maps, config).boxed();
    // the watch is established (its initial list delivered) before the spec changes; an
    // unchanged object is not written by a server-side apply, so the next event is the change
    loop {
        match stream.try_next().await.expect("watch") {
            Some(watcher::Event::InitDone) => break,
            Some(_) => {}
            None => panic!("the watch ended"),
        }
    }
    let watch = tokio::spawn(async move {
        while let Some(event) = stream.next().await {
            if let Ok(watcher::Event::Apply(cm)) = event {
                sigkill(pid);
                return cm.name_any();
            }
        }
        String::new()
    });
    let generation = act().await;
    let changed = tokio::time::timeout(Duration::from_secs(60), watch)
        .await
        .expect("the dashboard ConfigMap changed within 60 s")
        .unwrap();
    assert!(!changed.is_empty(), "the watch ended before a change");
    println!("SIGKILL (pid {pid}) at the first child the new spec changed: ConfigMap {GRAFANA}/{changed}");
    generation
}

fn bench_dir() -> std::path::PathBuf {
    std::path::Path::new(&std::env::var("KUBECONFIG").unwrap())
        .parent()
        .expect("KUBECONFIG lives in the bench folder")
        .to_path_buf()
}

fn apiserver_pid() -> u32 {
    let file = bench_dir().join("k8s/kube-apiserver.pid");
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .trim()
        .parse()
        .unwrap()
}

fn restart_apiserver() {
    let t0 = std::time::Instant::now();
    // The new apiserver replaces the bench's, which scripts/test started before the suites and
    // stops after them: it is not this suite's process, so it does not carry the suite's leak tag
    // (tools/testrun/leakcheck would otherwise stop it as a leak when the suite ends).
    let out = Command::new("bash")
        .arg(repo("scripts/testbed/k8s.sh"))
        .arg("start")
        .env("TESTBED_DIR", bench_dir())
        .env_remove("BF_LEAK_TAG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/testbed/k8s.sh start after the kill: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "kube-apiserver started again in {:.1} s (same etcd, same certificates)",
        t0.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the bench kube-apiserver: run by scripts/test.d/65-faults.sh"]
async fn converges_to_the_same_children_after_operator_and_apiserver_kills() {
    let Some((admin, _)) = bench().await else {
        missing_bench("no KUBECONFIG (start the bench: scripts/testbed/k8s.sh start)");
        return;
    };
    install(&admin).await;
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    gone_with_its_children(&admin).await;
    // config/rbac grants only the default namespaces: install the grants for these names.
    grant_namespaces(
        &admin,
        "blackfriday-operator-fault-namespaces",
        &[INGEST, KAFKA, VALKEY],
        GRAFANA,
    )
    .await;

    // 1. Undisturbed: A, then B, then A again (the same children as the first A).
    let mut operator = Operator::start(1);
    let gen_a = apply_spec(&admin, TAG_A).await;
    let want_a = settled(&admin, gen_a).await;
    let (_, objects_a) = children(&admin).await;
    let gen_b = apply_spec(&admin, TAG_B).await;
    let want_b = settled(&admin, gen_b).await;
    let (_, objects_b) = children(&admin).await;
    let changed = want_b
        .iter()
        .filter(|(k, h)| want_a.get(*k) != Some(h))
        .count();
    println!(
        "undisturbed: {} children for A, {} for B, {changed} differ between them",
        want_a.len(),
        want_b.len()
    );
    assert!(
        changed >= 5,
        "A and B must differ in many children for a mid-apply kill to mean anything"
    );
    let gen = apply_spec(&admin, TAG_A).await;
    converges(&admin, gen, &want_a, &objects_a, "undisturbed B → A").await;

    // 2. The operator SIGKILLed in the middle of applying B, then started again.
    let mut n = 1;
    let mut mid_apply = false;
    for attempt in 1..=5 {
        let pid = operator.pid();
        let gen = kill_at_first_change(&admin, pid, || apply_spec(&admin, TAG_B)).await;
        operator.reap();
        let (now, _) = children(&admin).await;
        // of the children B changes (the others agree already)
        let done = agreeing(&now, &want_b).saturating_sub(want_b.len() - changed);
        let status_gen = api
            .get(NAME)
            .await
            .unwrap()
            .status
            .and_then(|s| s.observed_generation);
        println!("attempt {attempt}: killed with {done} of the {changed} children B changes applied (generation {gen}; the status said {status_gen:?})");
        n += 1;
        operator = Operator::start(n);
        converges(
            &admin,
            gen,
            &want_b,
            &objects_b,
            "operator SIGKILLed mid-apply, restarted",
        )
        .await;
        if done > 0 && done < changed {
            mid_apply = true;
            break;
        }
        // the kill missed the apply loop: go back to A (undisturbed) and try again
        let gen = apply_spec(&admin, TAG_A).await;
        converges(&admin, gen, &want_a, &objects_a, "back to A").await;
    }
    assert!(
        mid_apply,
        "in 5 attempts no SIGKILL landed inside the apply loop"
    );

    // 3. The kube-apiserver SIGKILLed in the middle of applying A, then started again: the
    //    operator keeps running (its watches and applies retry) and converges.
    let pid = apiserver_pid();
    let gen = kill_at_first_change(&admin, pid, || apply_spec(&admin, TAG_A)).await;
    restart_apiserver();
    operator.assert_alive("kube-apiserver restart");
    converges(
        &admin,
        gen,
        &want_a,
        &objects_a,
        "kube-apiserver SIGKILLed mid-apply, restarted",
    )
    .await;
    operator.assert_alive("after converging");

    // clean up: the children go with the pipeline (ownerReferences, garbage collector)
    drop(operator);
    api.delete(NAME, &DeleteParams::default()).await.unwrap();
    gone_with_its_children(&admin).await;
}

/// No pipeline of an earlier run and none of its children, namespaces included (the garbage
/// collector removes the children after the pipeline; the namespaces belong to the install, so
/// the admin deletes these scratch ones, and grant_namespaces creates them afresh).
async fn gone_with_its_children(admin: &Client) {
    let api: Api<BlackFridayPipeline> = Api::all(admin.clone());
    if api.get_opt(NAME).await.unwrap().is_some() {
        api.delete(NAME, &DeleteParams::default()).await.unwrap();
    }
    eventually(
        "the pipeline of an earlier run and its children are gone",
        GC_WAIT,
        || async {
            for ns in [INGEST, KAFKA, VALKEY, GRAFANA] {
                let namespaces: Api<k8s_openapi::api::core::v1::Namespace> =
                    Api::all(admin.clone());
                let _ = namespaces.delete(ns, &DeleteParams::default()).await;
                if !namespace_gone(admin, ns).await {
                    return false;
                }
            }
            api.get_opt(NAME).await.unwrap().is_none() && children(admin).await.0.is_empty()
        },
    )
    .await;
}
