//! Deployments and Services of the programs: rust-api, grpc-client, the two writer tiers and
//! the consumer. The writers get headless Services so clients resolve every pod and balance
//! per call instead of pinning one long-lived HTTP/2 connection to one pod.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, HTTPGetAction, Lifecycle, LifecycleHandler,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecurityContext, Service, ServicePort, ServiceSpec, SleepAction,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::core::ObjectMeta;

use super::secrets::valkey_password;
use super::service_accounts::pull_secrets;
use super::{config_hash, kafka_auth, meta, Child, ClusterInputs};
use crate::crd::ResourcesSpec;
use crate::env;
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::{Scaling, ValidPipeline};

/// How one program runs; the Deployment and Service are derived from it.
struct Program<'a> {
    name: &'a str,
    service_account: &'a str,
    image: &'a str,
    /// `None`: an HPA owns replicas, so the field is left out of what we apply.
    replicas: Option<i32>,
    env: Vec<EnvVar>,
    ports: Vec<(&'static str, i32)>,
    /// The port serving /healthz and /readyz.
    probe_port: i32,
    resources: &'a ResourcesSpec,
    /// Extra inputs (e.g. a referenced Secret's content) that must roll the pods when changed.
    hashed_extra: Vec<String>,
}

fn replicas_of(scaling: &Scaling) -> Option<i32> {
    match scaling {
        Scaling::Fixed(n) => Some(*n),
        Scaling::Autoscaled(_) => None,
    }
}

/// Every program serves `/readyz` (may it get traffic?) and `/healthz` (is it alive?) on its
/// HTTP port: rust-api and grpc-client on their API port, the writers and the consumer on the
/// metrics port.
fn http_probe(path: &str, port: i32, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(port),
            ..Default::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(3),
        ..Default::default()
    }
}

fn programs<'a>(p: &'a ValidPipeline, inputs: &'a ClusterInputs) -> Vec<Program<'a>> {
    let spec = &p.spec;
    let mut programs = vec![
        Program {
            name: names::RUST_API,
            service_account: names::RUST_API,
            image: &p.images.rust_api,
            replicas: None, // always under its HPA
            env: env::rust_api(p),
            ports: vec![("http", names::RUST_API_PORT)],
            probe_port: names::RUST_API_PORT,
            resources: &spec.rust_api.resources,
            hashed_extra: vec![],
        },
        Program {
            name: names::GRPC_CLIENT,
            service_account: names::GRPC_CLIENT,
            image: &p.images.grpc_client,
            replicas: replicas_of(&p.grpc_client_scaling),
            env: env::grpc_client(p),
            ports: vec![("http", names::GRPC_CLIENT_PORT)],
            probe_port: names::GRPC_CLIENT_PORT,
            resources: &spec.grpc_client.resources,
            hashed_extra: vec![],
        },
    ];
    for (name, writer) in [
        (names::GRPC_SERVER_1, &spec.grpc_server1),
        (names::GRPC_SERVER_2, &spec.grpc_server2),
    ] {
        programs.push(Program {
            name,
            service_account: names::GRPC_SERVER_IMAGE,
            image: &p.images.grpc_server,
            replicas: Some(writer.replicas),
            env: env::writer(p, name),
            ports: vec![
                ("grpc", names::WRITER_PORT),
                ("metrics", names::WRITER_METRICS_PORT),
            ],
            probe_port: names::WRITER_METRICS_PORT,
            resources: &writer.resources,
            hashed_extra: vec![kafka_auth::hashed_inputs(inputs)],
        });
    }
    programs.push(Program {
        name: names::CONSUMER,
        service_account: names::CONSUMER,
        image: &p.images.consumer,
        replicas: replicas_of(&p.consumer_scaling),
        env: env::consumer(p),
        ports: vec![("metrics", names::CONSUMER_METRICS_PORT)],
        probe_port: names::CONSUMER_METRICS_PORT,
        resources: &spec.consumer.resources,
        // The password arrives through a secretKeyRef, which does not roll pods by itself.
        hashed_extra: vec![
            valkey_password(inputs).to_string(),
            kafka_auth::hashed_inputs(inputs),
        ],
    });
    programs
}

/// Seconds a terminating pod goes on serving before its program gets SIGTERM. Deleting a pod and
/// removing it from its Service's endpoints happen in parallel: until kube-proxy has rewritten its
/// rules (and an ingress controller its backends), new connections still reach the pod, and a
/// program that closed its listener on SIGTERM refuses them (on the bench node 40 sales were
/// answered 503 `downstream_unavailable` while grpc-client rolled over; docs/testbed-node.md). The
/// kubelet's `sleep` action needs no shell in the image (GA since Kubernetes 1.34, on by default
/// since 1.30).
const PRE_STOP_SLEEP_SECONDS: i64 = 10;
/// The programs' own graceful stop takes at most 20 s (the writers: in-flight calls and the Kafka
/// flush); the pod's grace covers the pre-stop sleep, that and a margin.
const TERMINATION_GRACE_SECONDS: i64 = PRE_STOP_SLEEP_SECONDS + 30;

/// Requests are always set: the HPA measures CPU as a share of the request.
fn resources(r: &ResourcesSpec) -> ResourceRequirements {
    let q = |v: &Option<String>, default: &str| {
        Quantity(v.clone().unwrap_or_else(|| default.to_string()))
    };
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), q(&r.cpu_request, "100m")),
            ("memory".to_string(), q(&r.memory_request, "64Mi")),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), q(&r.cpu_limit, "1")),
            ("memory".to_string(), q(&r.memory_limit, "256Mi")),
        ])),
        ..Default::default()
    }
}

fn deployment(p: &ValidPipeline, program: &Program) -> Deployment {
    let ns = p.ns_ingest();
    let env_text = serde_json::to_string(&program.env).expect("env serializes");
    let mut hashed: Vec<&str> = vec![program.image, &env_text];
    hashed.extend(program.hashed_extra.iter().map(String::as_str));
    let template_meta = ObjectMeta {
        labels: Some(names::component_labels(&p.name, program.name)),
        annotations: Some(BTreeMap::from([
            (
                names::ANNOTATION_CONFIG_HASH.to_string(),
                config_hash(&hashed),
            ),
            // Every program serves Prometheus metrics on its probe port.
            ("prometheus.io/scrape".to_string(), "true".to_string()),
            (
                "prometheus.io/port".to_string(),
                program.probe_port.to_string(),
            ),
            ("prometheus.io/path".to_string(), "/metrics".to_string()),
        ])),
        ..Default::default()
    };
    let container = Container {
        name: program.name.to_string(),
        image: Some(program.image.to_string()),
        image_pull_policy: Some(p.spec.registry.pull_policy.as_str().to_string()),
        env: Some(program.env.clone()),
        ports: Some(
            program
                .ports
                .iter()
                .map(|(name, port)| ContainerPort {
                    name: Some(name.to_string()),
                    container_port: *port,
                    protocol: Some("TCP".into()),
                    ..Default::default()
                })
                .collect(),
        ),
        readiness_probe: Some(http_probe("/readyz", program.probe_port, 5)),
        liveness_probe: Some(http_probe("/healthz", program.probe_port, 20)),
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: PRE_STOP_SLEEP_SECONDS,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        resources: Some(resources(program.resources)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    Deployment {
        metadata: meta(p, ns, program.name, program.name),
        spec: Some(DeploymentSpec {
            replicas: program.replicas,
            selector: LabelSelector {
                match_labels: Some(names::selector_labels(&p.name, program.name)),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(template_meta),
                spec: Some(PodSpec {
                    // A fixed non-root uid, so runAsNonRoot holds whatever USER the image sets;
                    // with the container settings below this meets the "restricted" Pod Security level.
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(65532),
                        run_as_group: Some(65532),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            localhost_profile: None,
                        }),
                        ..Default::default()
                    }),
                    service_account_name: Some(program.service_account.to_string()),
                    image_pull_secrets: pull_secrets(p),
                    containers: vec![container],
                    termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

pub fn deployments(p: &ValidPipeline, inputs: &ClusterInputs) -> Vec<Child> {
    programs(p, inputs)
        .iter()
        .map(|program| Child::new(ChildKind::Deployment, &deployment(p, program)))
        .collect()
}

/// Services: ClusterIP for rust-api and grpc-client; headless for the writers (gRPC and their
/// metrics port); a metrics-only Service for the consumer, which has no callers.
pub fn services(p: &ValidPipeline) -> Vec<Child> {
    let service = |name: &str, ports: &[(&str, i32)], headless: bool| {
        let svc = Service {
            metadata: meta(p, p.ns_ingest(), name, name),
            spec: Some(ServiceSpec {
                selector: Some(names::selector_labels(&p.name, name)),
                cluster_ip: headless.then(|| "None".to_string()),
                // Headless writers resolve to ready pods only: clients never see a writer that
                // has not passed /readyz.
                ports: Some(
                    ports
                        .iter()
                        .map(|(port_name, port)| ServicePort {
                            name: Some(port_name.to_string()),
                            port: *port,
                            target_port: Some(IntOrString::Int(*port)),
                            protocol: Some("TCP".into()),
                            app_protocol: (*port_name == "grpc")
                                .then(|| "kubernetes.io/h2c".to_string()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            status: None,
        };
        Child::new(ChildKind::Service, &svc)
    };
    let writer_ports = [
        ("grpc", names::WRITER_PORT),
        ("metrics", names::WRITER_METRICS_PORT),
    ];
    vec![
        service(names::RUST_API, &[("http", names::RUST_API_PORT)], false),
        service(
            names::GRPC_CLIENT,
            &[("http", names::GRPC_CLIENT_PORT)],
            false,
        ),
        service(names::GRPC_SERVER_1, &writer_ports, true),
        service(names::GRPC_SERVER_2, &writer_ports, true),
        service(
            names::CONSUMER,
            &[("metrics", names::CONSUMER_METRICS_PORT)],
            false,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::build::testing::*;

    #[test]
    fn a_rotated_password_rolls_the_consumer() {
        let p = validate_spec("bf", None, Some(1), &BlackFridayPipelineSpec::default()).unwrap();
        let hash = |password: &str| {
            let d = desired(
                &p,
                &ClusterInputs {
                    valkey_password: Some(password.into()),
                    ..Default::default()
                },
            );
            d.find(ChildKind::Deployment, Some("ingest"), names::CONSUMER)
                .unwrap()
                .object
                .data["spec"]["template"]["metadata"]["annotations"][names::ANNOTATION_CONFIG_HASH]
                .clone()
        };
        assert_ne!(hash("a"), hash("b"));
    }

    /// A terminating pod keeps serving while it leaves its Service's endpoints (the 503s of a
    /// grpc-client rollover on the bench node), and its grace covers that wait plus the program's
    /// own graceful stop (20 s at most).
    #[test]
    fn every_program_keeps_serving_while_it_leaves_its_endpoints() {
        let d = build(&BlackFridayPipelineSpec::default(), None);
        let deployments: Vec<_> = d.of_kind(ChildKind::Deployment).collect();
        assert_eq!(deployments.len(), 5);
        for dep in deployments {
            let pod = &dep.object.data["spec"]["template"]["spec"];
            let sleep = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
                .as_i64()
                .unwrap_or_else(|| panic!("{}: no preStop sleep", dep.key()));
            assert!(sleep >= 5, "{}: preStop sleep {sleep}s", dep.key());
            let grace = pod["terminationGracePeriodSeconds"].as_i64().unwrap();
            assert!(
                grace >= sleep + 20,
                "{}: grace {grace}s, sleep {sleep}s",
                dep.key()
            );
        }
    }
}
