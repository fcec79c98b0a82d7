//! Status conditions, computed from what the children report (pure, so it is unit-tested).
//! Deterministic: the same observations give the same conditions, and `lastTransitionTime` only
//! moves when a condition's status changes — so writing status never re-triggers a reconcile.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::core::DynamicObject;
use serde_json::Value;

use super::discovery::Installed;
use crate::crd::{KafkaMode, ValkeyDiskSource};
use crate::kinds::{ChildKey, ChildKind, Provider};
use crate::names;
use crate::validate::ValidPipeline;

pub const READY: &str = "Ready";
pub const PROGRESSING: &str = "Progressing";
pub const DEGRADED: &str = "Degraded";
pub const PAUSED: &str = "Paused";

/// One condition before timestamps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub type_: String,
    pub status: bool,
    pub reason: String,
    pub message: String,
    /// A failure that waiting will not fix (missing add-on, rejected object): Degraded, not Progressing.
    pub blocking: bool,
}

impl Observed {
    fn ok(type_: &str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: type_.into(),
            status: true,
            reason: reason.into(),
            message: message.into(),
            blocking: false,
        }
    }
    fn waiting(type_: &str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: type_.into(),
            status: false,
            reason: reason.into(),
            message: message.into(),
            blocking: false,
        }
    }
    fn blocked(type_: &str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: type_.into(),
            status: false,
            reason: reason.into(),
            message: message.into(),
            blocking: true,
        }
    }
}

/// What one reconcile saw: the applied objects (as the API server returned them) and failures.
#[derive(Default)]
pub struct Observations {
    /// Child → the object as stored.
    pub applied: BTreeMap<ChildKey, DynamicObject>,
    /// Child → error message.
    pub failed: BTreeMap<ChildKey, String>,
    pub installed: Installed,
    pub pull_secret_missing: bool,
    /// The external Valkey's password Secret or key is missing (`ClusterInputs`).
    pub valkey_password_missing: bool,
}

fn not_installed(provider: Provider, what: &str, install: &str) -> String {
    let (api_version, _) = super::discovery::requirements(provider);
    format!("{} is not installed (no {api_version} API for {what}); install it ({install}) — the rest of the pipeline is applied", provider.as_str())
}

/// The failures of the children `keys`, joined into one message (None: none failed).
fn failures(o: &Observations, keys: &[ChildKey]) -> Option<String> {
    let messages: Vec<String> = keys
        .iter()
        .filter_map(|k| o.failed.get(k).map(|m| format!("{k}: {m}")))
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// Component conditions, in a fixed order.
pub fn components(p: &ValidPipeline, o: &Observations) -> Vec<Observed> {
    let ns = p.ns_ingest();
    let mut out = Vec::new();

    // Programs (Deployments).
    for (type_, name) in [
        ("RustApi", names::RUST_API),
        ("GrpcClient", names::GRPC_CLIENT),
        ("GrpcServer1", names::GRPC_SERVER_1),
        ("GrpcServer2", names::GRPC_SERVER_2),
        ("Consumer", names::CONSUMER),
    ] {
        let keys: Vec<ChildKey> = [
            ChildKey::namespaced(ChildKind::Deployment, ns, name),
            ChildKey::namespaced(ChildKind::Service, ns, name),
            ChildKey::namespaced(ChildKind::HorizontalPodAutoscaler, ns, name),
        ]
        .into();
        out.push(match failures(o, &keys) {
            Some(message) => Observed::blocked(type_, "ApplyFailed", message),
            None => match o.applied.get(&keys[0]) {
                Some(deployment) => deployment_condition(type_, deployment),
                None => Observed::waiting(
                    type_,
                    "NotApplied",
                    "the Deployment has not been applied yet",
                ),
            },
        });
    }

    out.push(kafka_condition(p, o));
    out.push(valkey_condition(p, o));

    // Grafana provisioning.
    out.push(if !p.spec.grafana.enabled {
        Observed::ok("Grafana", "Disabled", "spec.grafana.enabled is false")
    } else {
        let keys = [
            ChildKey::namespaced(ChildKind::Secret, p.ns_grafana(), names::GRAFANA_DATASOURCE),
            ChildKey::namespaced(
                ChildKind::ConfigMap,
                p.ns_grafana(),
                names::GRAFANA_DASHBOARD,
            ),
        ];
        match failures(o, &keys) {
            Some(message) => Observed::blocked("Grafana", "ApplyFailed", message),
            None => Observed::ok(
                "Grafana",
                "Provisioned",
                format!(
                    "datasource and dashboard are in namespace {} for the sidecars",
                    p.ns_grafana()
                ),
            ),
        }
    });

    // Ingress.
    out.push(if !p.spec.ingress.enabled {
        Observed::ok("Ingress", "Disabled", "spec.ingress.enabled is false")
    } else {
        let k = ChildKey::namespaced(ChildKind::Ingress, ns, names::RUST_API);
        match (failures(o, std::slice::from_ref(&k)), o.applied.get(&k)) {
            (Some(message), _) => Observed::blocked("Ingress", "ApplyFailed", message),
            (None, Some(ingress)) => {
                let addresses: Vec<String> = ingress.data["status"]["loadBalancer"]["ingress"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .filter_map(|i| {
                                i["ip"]
                                    .as_str()
                                    .or(i["hostname"].as_str())
                                    .map(str::to_string)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if addresses.is_empty() {
                    Observed::waiting(
                        "Ingress",
                        "AwaitingAddress",
                        format!(
                            "no address from ingress class {} yet",
                            p.spec.ingress.class_name
                        ),
                    )
                } else {
                    Observed::ok(
                        "Ingress",
                        "Admitted",
                        format!("reachable at {}", addresses.join(", ")),
                    )
                }
            }
            (None, None) => Observed::waiting(
                "Ingress",
                "NotApplied",
                "the Ingress has not been applied yet",
            ),
        }
    });

    // Registry pull Secret.
    if let Some(source) = &p.spec.registry.pull_secret {
        out.push(if o.pull_secret_missing {
            Observed::blocked(
                "Registry",
                "PullSecretMissing",
                format!("spec.registry.pullSecret: Secret {}/{} does not exist; images from {} may fail to pull", source.namespace, source.name, p.spec.registry.host),
            )
        } else {
            Observed::ok("Registry", "PullSecretCopied", format!("copied {}/{} as {}", source.namespace, source.name, names::PULL_SECRET))
        });
    }

    // Optional VPA objects.
    if p.spec.vpa.enabled {
        out.push(if o.installed.has(Provider::Vpa) {
            Observed::ok("Vpa", "Applied", "VerticalPodAutoscalers applied")
        } else {
            Observed::blocked(
                "Vpa",
                "VpaNotInstalled",
                not_installed(Provider::Vpa, "spec.vpa", "the Kubernetes autoscaler's VPA"),
            )
        });
    }
    out
}

fn deployment_condition(type_: &str, deployment: &DynamicObject) -> Observed {
    let wanted = deployment.data["spec"]["replicas"].as_i64().unwrap_or(1);
    let status = &deployment.data["status"];
    let available = status["availableReplicas"].as_i64().unwrap_or(0);
    let generation = deployment.metadata.generation.unwrap_or(0);
    let observed = status["observedGeneration"].as_i64().unwrap_or(0);
    if wanted == 0 {
        return Observed::ok(type_, "ScaledToZero", "0 replicas requested");
    }
    let counts = format!("{available}/{wanted} replicas available");
    if observed < generation {
        Observed::waiting(
            type_,
            "RolloutPending",
            format!("{counts}; the deployment controller has not seen generation {generation} yet"),
        )
    } else if available >= wanted {
        Observed::ok(type_, "Available", counts)
    } else {
        Observed::waiting(type_, "ReplicasUnavailable", counts)
    }
}

/// The `Ready` condition of a Strimzi object, if it reports one for its current generation.
fn strimzi_ready(object: &DynamicObject) -> (bool, String) {
    let status = &object.data["status"];
    let generation = object.metadata.generation.unwrap_or(0);
    let ready = status["conditions"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["type"] == "Ready"))
        .cloned()
        .unwrap_or(Value::Null);
    let current = status["observedGeneration"].as_i64().unwrap_or(0) >= generation;
    let is_ready = current && ready["status"] == "True";
    let message = ready["message"]
        .as_str()
        .unwrap_or("no Ready condition from Strimzi yet")
        .to_string();
    (is_ready, message)
}

fn kafka_condition(p: &ValidPipeline, o: &Observations) -> Observed {
    if p.spec.kafka.mode == KafkaMode::External {
        return Observed::ok("Kafka", "External", format!("using {}", p.kafka_bootstrap));
    }
    if !o.installed.has(Provider::Strimzi) {
        return Observed::blocked(
            "Kafka",
            "StrimziNotInstalled",
            not_installed(
                Provider::Strimzi,
                "Kafka, KafkaNodePool, KafkaTopic",
                "config/platform/strimzi",
            ),
        );
    }
    let ns = p.ns_kafka();
    let mut keys = vec![
        ChildKey::namespaced(ChildKind::Kafka, ns, &p.spec.kafka.cluster_name),
        ChildKey::namespaced(ChildKind::KafkaNodePool, ns, names::KAFKA_NODE_POOL),
        ChildKey::namespaced(ChildKind::KafkaTopic, ns, &p.spec.kafka.topic.name),
    ];
    // With authentication the programs cannot log in before Strimzi's User Operator has made
    // their users (and the Secrets they read): a KafkaUser not Ready keeps Kafka waiting.
    if crate::build::kafka_login(p) == crate::build::KafkaLogin::StrimziScram {
        keys.extend(
            crate::build::kafka_users()
                .iter()
                .map(|user| ChildKey::namespaced(ChildKind::KafkaUser, p.ns_ingest(), user)),
        );
    }
    if let Some(message) = failures(o, &keys) {
        return Observed::blocked("Kafka", "ApplyFailed", message);
    }
    let mut waiting = Vec::new();
    let watched = [("Kafka", &keys[0]), ("KafkaTopic", &keys[2])]
        .into_iter()
        .chain(keys[3..].iter().map(|k| ("KafkaUser", k)));
    for (what, k) in watched {
        match o.applied.get(k) {
            Some(object) => {
                let (ready, message) = strimzi_ready(object);
                if !ready {
                    waiting.push(format!(
                        "{what} {}: {message}",
                        object.metadata.name.as_deref().unwrap_or_default()
                    ));
                }
            }
            None => waiting.push(format!("{what} not applied yet")),
        }
    }
    if waiting.is_empty() {
        Observed::ok(
            "Kafka",
            "Ready",
            format!(
                "Kafka and topic {} are ready at {}",
                p.spec.kafka.topic.name, p.kafka_bootstrap
            ),
        )
    } else {
        Observed::waiting("Kafka", "KafkaNotReady", waiting.join("; "))
    }
}

fn valkey_condition(p: &ValidPipeline, o: &Observations) -> Observed {
    if !p.valkey_managed() {
        return external_valkey_condition(p, o);
    }
    let replicas = p.spec.valkey.replicas;
    if replicas == 0 {
        return Observed::ok("Valkey", "ScaledToZero", "spec.valkey.replicas is 0");
    }
    if !o.installed.has(Provider::KubeVirt) {
        return Observed::blocked(
            "Valkey",
            "KubeVirtNotInstalled",
            not_installed(
                Provider::KubeVirt,
                "VirtualMachine",
                "config/platform/kubevirt",
            ),
        );
    }
    if p.spec.valkey.disk.source == ValkeyDiskSource::DataVolume && !o.installed.has(Provider::Cdi)
    {
        return Observed::blocked(
            "Valkey",
            "CdiNotInstalled",
            not_installed(
                Provider::Cdi,
                "spec.valkey.disk.source dataVolume",
                "config/platform/kubevirt",
            ),
        );
    }
    let ns = p.ns_valkey();
    let mut keys: Vec<ChildKey> = (0..replicas)
        .map(|i| ChildKey::namespaced(ChildKind::VirtualMachine, ns, &names::valkey_vm(i)))
        .collect();
    keys.extend((0..replicas).map(|i| {
        ChildKey::namespaced(
            ChildKind::PersistentVolumeClaim,
            ns,
            &names::valkey_data_pvc(i),
        )
    }));
    if let Some(message) = failures(o, &keys) {
        return Observed::blocked("Valkey", "ApplyFailed", message);
    }
    let mut ready = 0;
    let mut details = Vec::new();
    for k in keys.iter().take(replicas as usize) {
        match o.applied.get(k) {
            Some(vm) if vm.data["status"]["ready"].as_bool() == Some(true) => ready += 1,
            Some(vm) => details.push(format!(
                "{}: {}",
                vm.metadata.name.as_deref().unwrap_or_default(),
                vm.data["status"]["printableStatus"]
                    .as_str()
                    .unwrap_or("no status from KubeVirt yet")
            )),
            None => details.push(format!("{k} not applied yet")),
        }
    }
    let counts = format!("{ready}/{replicas} VMs ready");
    if ready == replicas {
        Observed::ok(
            "Valkey",
            "Ready",
            format!("{counts}; primary at {}", p.valkey_primary_addr),
        )
    } else {
        Observed::waiting(
            "Valkey",
            "VirtualMachinesNotReady",
            format!("{counts} ({})", details.join(", ")),
        )
    }
}

/// An external Valkey is the user's to run: we only say which addresses the programs use, or that
/// its password Secret cannot be read (the consumer cannot start without it).
fn external_valkey_condition(p: &ValidPipeline, o: &Observations) -> Observed {
    if o.valkey_password_missing {
        let source = p.valkey_password_source().unwrap_or_else(|| {
            unreachable!("a missing password implies a password Secret in the spec")
        });
        return Observed::blocked(
            "Valkey",
            "PasswordSecretMissing",
            format!(
                "spec.valkey.external.passwordSecret: Secret {}/{} has no non-empty key {:?}; the consumer cannot start until it does",
                source.namespace, source.name, source.key
            ),
        );
    }
    let copy = ChildKey::namespaced(
        ChildKind::Secret,
        p.ns_ingest(),
        &p.spec.valkey.password_secret.name,
    );
    if let Some(message) = failures(o, std::slice::from_ref(&copy)) {
        return Observed::blocked("Valkey", "ApplyFailed", message);
    }
    let auth = if p.valkey_password_source().is_some() {
        "with the password from spec.valkey.external.passwordSecret"
    } else {
        "without a password"
    };
    Observed::ok(
        "Valkey",
        "External",
        format!(
            "external Valkey (spec.valkey.mode external), not run by the operator: the consumer writes to {}, Grafana reads {}, {auth}",
            p.valkey_primary_addr, p.valkey_read_addr
        ),
    )
}

/// Ready / Progressing / Degraded / Paused from the component conditions.
pub fn summary(components: &[Observed], paused: bool) -> Vec<Observed> {
    let not_ready: Vec<&Observed> = components.iter().filter(|c| !c.status).collect();
    let blocking: Vec<&Observed> = not_ready.iter().copied().filter(|c| c.blocking).collect();
    let names = |list: &[&Observed]| {
        list.iter()
            .map(|c| c.type_.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ready = if not_ready.is_empty() {
        Observed::ok(READY, "AllComponentsReady", "every component is ready")
    } else {
        Observed::waiting(
            READY,
            "ComponentsNotReady",
            format!("not ready: {}", names(&not_ready)),
        )
    };
    let degraded = match blocking.first() {
        Some(first) => Observed::ok(
            DEGRADED,
            &first.reason,
            blocking
                .iter()
                .map(|c| format!("{}: {}", c.type_, c.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        None => Observed::waiting(DEGRADED, "AsExpected", "no component is blocked"),
    };
    let progressing = if paused {
        Observed::waiting(PROGRESSING, "Paused", "spec.paused is true")
    } else if not_ready.len() > blocking.len() {
        let converging: Vec<&Observed> =
            not_ready.iter().copied().filter(|c| !c.blocking).collect();
        Observed::ok(
            PROGRESSING,
            "Converging",
            format!("waiting for: {}", names(&converging)),
        )
    } else if blocking.is_empty() {
        Observed::waiting(PROGRESSING, "Reconciled", "the children match the spec")
    } else {
        Observed::waiting(
            PROGRESSING,
            "Blocked",
            "waiting will not help; see Degraded",
        )
    };
    let paused = if paused {
        Observed::ok(
            PAUSED,
            "Paused",
            "spec.paused is true: children are left as they are",
        )
    } else {
        Observed::waiting(PAUSED, "Reconciling", "spec.paused is false")
    };
    vec![ready, progressing, degraded, paused]
}

/// While `spec.paused`: the two conditions that change (the others keep their last word).
pub fn paused() -> Vec<Observed> {
    vec![
        Observed::ok(
            PAUSED,
            "Paused",
            "spec.paused is true: children are left as they are",
        ),
        Observed::waiting(PROGRESSING, "Paused", "spec.paused is true"),
    ]
}

/// The summary for a spec the operator refuses (`reason`: InvalidSpec, or NamespaceNotManaged
/// for namespaces the install did not grant): nothing is applied; components keep what they said.
pub fn invalid_spec(reason: &'static str, message: &str) -> Vec<Observed> {
    vec![
        Observed::waiting(READY, reason, message),
        Observed::waiting(
            PROGRESSING,
            reason,
            "fix the spec; nothing is applied until then",
        ),
        Observed::blocked(DEGRADED, reason, message).with_status(true),
        Observed::waiting(PAUSED, "Reconciling", "spec.paused is false"),
    ]
}

impl Observed {
    fn with_status(mut self, status: bool) -> Self {
        self.status = status;
        self
    }
}

/// Turn observations into `metav1.Condition`s, keeping `lastTransitionTime` (and any previous
/// condition not mentioned, e.g. components while the spec is invalid) from `previous`.
pub fn to_conditions(
    observed: &[Observed],
    previous: &[Condition],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = observed
        .iter()
        .map(|o| {
            let status = if o.status { "True" } else { "False" }.to_string();
            let last_transition_time = previous
                .iter()
                .find(|c| c.type_ == o.type_ && c.status == status)
                .map(|c| c.last_transition_time.clone())
                .unwrap_or(Time(now));
            Condition {
                type_: o.type_.clone(),
                status,
                reason: o.reason.clone(),
                message: o.message.clone(),
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect();
    for old in previous {
        if !out.iter().any(|c| c.type_ == old.type_) {
            out.push(old.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::BlackFridayPipelineSpec;
    use crate::validate::validate_spec;

    fn pipeline() -> ValidPipeline {
        validate_spec("bf", None, Some(1), &BlackFridayPipelineSpec::default()).unwrap()
    }

    fn find<'a>(list: &'a [Observed], type_: &str) -> &'a Observed {
        list.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn missing_crds_are_blocking_conditions_naming_the_add_on() {
        let p = pipeline();
        let o = Observations {
            installed: Installed::default(),
            ..Default::default()
        };
        let list = components(&p, &o);
        let kafka = find(&list, "Kafka");
        assert_eq!(kafka.reason, "StrimziNotInstalled");
        assert!(kafka.message.contains("kafka.strimzi.io/v1"));
        assert_eq!(find(&list, "Valkey").reason, "KubeVirtNotInstalled");
        let summary = summary(&list, false);
        let degraded = find(&summary, DEGRADED);
        assert!(degraded.status);
        assert!(degraded.message.contains("Strimzi") && degraded.message.contains("KubeVirt"));
    }

    #[test]
    fn nothing_applied_yet_is_progressing_not_degraded() {
        let p = pipeline();
        let o = Observations {
            installed: Installed::all(),
            ..Default::default()
        };
        let summary = summary(&components(&p, &o), false);
        assert!(!find(&summary, READY).status);
        assert!(find(&summary, PROGRESSING).status);
        assert!(!find(&summary, DEGRADED).status);
    }

    #[test]
    fn external_valkey_is_reported_as_external_or_missing_its_password() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.mode = crate::crd::ValkeyMode::External;
        spec.valkey.external = Some(crate::crd::ExternalValkeySpec {
            primary_address: "p.example.com:6379".into(),
            read_address: None,
            password_secret: Some(crate::crd::SecretKeyRef {
                name: "tok".into(),
                namespace: "ops".into(),
                key: "password".into(),
            }),
        });
        let p = validate_spec("bf", None, Some(1), &spec).unwrap();
        // No KubeVirt needed for an external Valkey.
        let mut o = Observations::default();
        let valkey = find(&components(&p, &o), "Valkey").clone();
        assert_eq!((valkey.status, valkey.reason.as_str()), (true, "External"));
        assert!(
            valkey.message.contains("p.example.com:6379"),
            "{}",
            valkey.message
        );
        o.valkey_password_missing = true;
        let valkey = find(&components(&p, &o), "Valkey").clone();
        assert_eq!(
            (valkey.status, valkey.reason.as_str(), valkey.blocking),
            (false, "PasswordSecretMissing", true)
        );
        assert!(
            valkey
                .message
                .contains("spec.valkey.external.passwordSecret")
                && valkey.message.contains("ops/tok"),
            "{}",
            valkey.message
        );
    }

    #[test]
    fn deployment_availability() {
        let mut d: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "availableReplicas": 1}
        }))
        .unwrap();
        let c = deployment_condition("X", &d);
        assert_eq!(
            (c.status, c.reason.as_str(), c.message.as_str()),
            (false, "ReplicasUnavailable", "1/2 replicas available")
        );
        d.data["status"]["availableReplicas"] = 2.into();
        assert!(deployment_condition("X", &d).status);
        d.metadata.generation = Some(3);
        assert_eq!(deployment_condition("X", &d).reason, "RolloutPending");
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let first = to_conditions(&[Observed::waiting("A", "R", "m")], &[], Some(1), t0);
        let same = to_conditions(&[Observed::waiting("A", "R2", "m2")], &first, Some(2), t1);
        assert_eq!(same[0].last_transition_time, Time(t0));
        let flipped = to_conditions(&[Observed::ok("A", "R", "m")], &same, Some(2), t1);
        assert_eq!(flipped[0].last_transition_time, Time(t1));
    }
}
