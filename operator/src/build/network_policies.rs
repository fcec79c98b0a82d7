//! NetworkPolicies (`spec.networkPolicies`): in every namespace the operator owns, a default deny
//! of all ingress and egress, DNS, and then exactly the pipeline's edges:
//!
//! ingress controller → rust-api → grpc-client → writers → Kafka ← consumer → Valkey ← Grafana
//!
//! (rust-api goes straight to the writers in `forwardMode: grpc`). Kafka's namespace also lets
//! Strimzi's own traffic through: broker ↔ broker and entity operator → broker inside it, the
//! cluster operator → the brokers' control and replication ports, and the entity operator → the
//! Kubernetes API. docs/security.md has the reachability table derived from these objects.
//!
//! Policies add up (a connection is allowed when any policy selecting the pod allows it), and a
//! connection needs both the sender's egress and the receiver's ingress, so every edge appears
//! twice: once as egress in the caller's namespace, once as ingress in the callee's.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::{meta, Child};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

/// The label the API server sets on every namespace (Kubernetes ≥ 1.21), the one thing a
/// namespaceSelector can name a namespace by.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Where cluster DNS runs and how its pods are labelled (kubeadm, GKE and EKS alike).
pub const DNS_NAMESPACE: &str = "kube-system";
pub const DNS_POD_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
/// Labels Strimzi puts on the pods it runs (strimzi-kafka-operator, `Labels.java`).
pub const STRIMZI_CLUSTER: &str = "strimzi.io/cluster";
pub const STRIMZI_KIND: &str = "strimzi.io/kind";
pub const STRIMZI_NAME: &str = "strimzi.io/name";
/// Strimzi's brokers: the control-plane (KRaft) and replication listeners, which Strimzi's own
/// generated policy opens to the cluster operator (KafkaCluster#generateNetworkPolicy).
pub const KAFKA_CONTROL_PORT: i32 = 9090;
pub const KAFKA_REPLICATION_PORT: i32 = 9091;
/// Ports of the Kubernetes API (a Service port 443 DNATed to the apiserver's 6443 on most clusters;
/// a NetworkPolicy cannot select the API server itself, so it is opened by port).
pub const API_SERVER_PORTS: [i32; 2] = [443, 6443];

const TCP: &str = "TCP";

pub fn build(p: &ValidPipeline, children: &[Child]) -> Vec<Child> {
    if !p.spec.network_policies.enabled {
        return vec![];
    }
    let mut policies = Vec::new();
    for ns in owned_namespaces(p) {
        policies.push(default_deny(p, ns));
        policies.push(allow_dns(p, ns));
    }
    let listener_ports = kafka_listener_ports(children);
    policies.extend(ingest(p, &listener_ports));
    if p.kafka_managed() {
        policies.extend(kafka(p, &listener_ports));
    }
    if p.valkey_managed() {
        policies.push(valkey(p));
    }
    policies
}

/// Strimzi opens every listener to all pods through a policy of its own unless the listener names
/// `networkPolicyPeers` (Strimzi docs, "networkPolicyPeers"); policies add up, so without this
/// our default deny would not hold for the brokers. The peers are the writers and the consumer.
pub fn restrict_kafka_listeners(p: &ValidPipeline, children: &mut [Child]) {
    if !p.spec.network_policies.enabled {
        return;
    }
    let peers = json!([kafka_client_peer(p)]);
    for child in children.iter_mut().filter(|c| c.kind == ChildKind::Kafka) {
        if let Some(listeners) = child.object.data["spec"]["kafka"]["listeners"].as_array_mut() {
            for listener in listeners {
                listener["networkPolicyPeers"] = peers.clone();
            }
        }
    }
}

fn owned_namespaces(p: &ValidPipeline) -> Vec<&str> {
    [
        Some(p.ns_ingest()),
        p.kafka_managed().then(|| p.ns_kafka()),
        p.valkey_managed().then(|| p.ns_valkey()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn policy(p: &ValidPipeline, ns: &str, name: &str, spec: Value) -> Child {
    let object = json!({"metadata": meta(p, ns, name, "network-policy"), "spec": spec});
    Child::new(ChildKind::NetworkPolicy, &object)
}

fn default_deny(p: &ValidPipeline, ns: &str) -> Child {
    policy(
        p,
        ns,
        "default-deny",
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    )
}

fn allow_dns(p: &ValidPipeline, ns: &str) -> Child {
    let (key, value) = DNS_POD_LABEL;
    policy(
        p,
        ns,
        "allow-dns",
        json!({
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}},
                    "podSelector": {"matchLabels": {key: value}}
                }],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": TCP, "port": 53}]
            }]
        }),
    )
}

/// Pods of one of our programs (its selector labels).
fn program_selector(p: &ValidPipeline, program: &str) -> Value {
    json!({"matchLabels": names::selector_labels(&p.name, program)})
}

/// Pods of some of our programs, from anywhere in the cluster: a namespace and pod selector.
fn programs_in(p: &ValidPipeline, ns: &str, programs: &[&str]) -> Value {
    json!({
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ns}},
        "podSelector": {
            "matchLabels": {names::LABEL_PIPELINE: p.name},
            "matchExpressions": [{"key": names::LABEL_NAME, "operator": "In", "values": programs}]
        }
    })
}

fn all_pods_in(ns: &str) -> Value {
    json!({"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ns}}})
}

fn tcp_ports(ports: &[i32]) -> Value {
    Value::Array(
        ports
            .iter()
            .map(|port| json!({"protocol": TCP, "port": port}))
            .collect(),
    )
}

/// The writers and the consumer: the only Kafka clients.
fn kafka_client_peer(p: &ValidPipeline) -> Value {
    programs_in(
        p,
        p.ns_ingest(),
        &[names::GRPC_SERVER_1, names::GRPC_SERVER_2, names::CONSUMER],
    )
}

/// Where a program may send Kafka traffic: the brokers of our Strimzi cluster, or (external) the
/// bootstrap addresses (see `external_egress`).
fn kafka_egress(p: &ValidPipeline, listener_ports: &[i32]) -> Value {
    if p.kafka_managed() {
        json!({
            "to": [{
                "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: p.ns_kafka()}},
                "podSelector": {"matchLabels": broker_labels(p)}
            }],
            "ports": tcp_ports(listener_ports)
        })
    } else {
        external_egress(&p.kafka_bootstrap)
    }
}

fn valkey_egress(p: &ValidPipeline) -> Value {
    if p.valkey_managed() {
        json!({
            "to": [{
                "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: p.ns_valkey()}},
                "podSelector": program_selector(p, names::VALKEY)
            }],
            "ports": tcp_ports(&[names::VALKEY_PORT])
        })
    } else {
        external_egress(&p.valkey_primary_addr)
    }
}

/// Egress to a service outside the cluster, from its `host:port[,host:port]` list. When every host
/// is an IP address (a fixed endpoint, a bench host, a VPC address) the rule names exactly those
/// addresses as `ipBlock`s (/32, /128) on those ports; a DNS name (MSK, ElastiCache) cannot be named
/// by a NetworkPolicy, so then the ports are open to any address. Kafka: clients go on to the
/// addresses the brokers advertise, so with IP addresses every broker must be in the list.
fn external_egress(addresses: &str) -> Value {
    let ports = tcp_ports(&ports_of(addresses));
    match ip_hosts_of(addresses) {
        Some(ips) => json!({
            "to": ips.iter().map(|ip| {
                let bits = if ip.is_ipv4() { 32 } else { 128 };
                json!({"ipBlock": {"cidr": format!("{ip}/{bits}")}})
            }).collect::<Vec<_>>(),
            "ports": ports
        }),
        None => json!({"ports": ports}),
    }
}

/// The hosts of a `host:port` list when all of them are IP addresses (`[v6]:port` too),
/// deduplicated, in order; `None` when any is a name.
fn ip_hosts_of(addresses: &str) -> Option<Vec<IpAddr>> {
    let mut ips = Vec::new();
    for address in addresses
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let (host, _) = address.rsplit_once(':')?;
        let ip: IpAddr = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    (!ips.is_empty()).then_some(ips)
}

/// The ports of a `host:port[,host:port]` list, deduplicated, in order.
fn ports_of(addresses: &str) -> Vec<i32> {
    let mut ports = Vec::new();
    for address in addresses.split(',') {
        if let Some(port) = address
            .trim()
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
        {
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
    }
    ports
}

/// The listener ports of our Kafka child as built (whatever listeners it declares).
pub fn kafka_listener_ports(children: &[Child]) -> Vec<i32> {
    let mut ports: Vec<i32> = children
        .iter()
        .filter(|c| c.kind == ChildKind::Kafka)
        .flat_map(|c| {
            c.object.data["spec"]["kafka"]["listeners"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|listener| listener["port"].as_i64().map(|p| p as i32))
        .collect();
    if ports.is_empty() {
        ports.push(names::KAFKA_PLAIN_PORT);
    }
    ports
}

/// The broker pods, selected as Strimzi's own generated policy selects them (every pod of the
/// cluster has `strimzi.io/kind: Kafka`; the brokers' `strimzi.io/name` is `<cluster>-kafka`).
pub fn broker_labels(p: &ValidPipeline) -> Value {
    let cluster = &p.spec.kafka.cluster_name;
    json!({STRIMZI_CLUSTER: cluster, STRIMZI_KIND: "Kafka", STRIMZI_NAME: format!("{cluster}-kafka")})
}

/// Ingress from the metrics namespace to `port`, when one is configured.
fn scrape_rule(p: &ValidPipeline, port: i32) -> Option<Value> {
    p.spec
        .network_policies
        .metrics_namespace
        .as_deref()
        .map(|ns| json!({"from": [all_pods_in(ns)], "ports": tcp_ports(&[port])}))
}

/// One policy per program in the ingest namespace: who may call it, whom it may call.
fn ingest(p: &ValidPipeline, kafka_ports: &[i32]) -> Vec<Child> {
    let ns = p.ns_ingest();
    let writer_callers: Vec<&str> = match p.spec.rust_api.forward_mode {
        crate::crd::ForwardMode::Rest => vec![names::GRPC_CLIENT],
        crate::crd::ForwardMode::Grpc => vec![names::RUST_API, names::GRPC_CLIENT],
    };
    let to_writers = json!({
        "to": [{"podSelector": {
            "matchLabels": {names::LABEL_PIPELINE: p.name},
            "matchExpressions": [{"key": names::LABEL_NAME, "operator": "In",
                                  "values": [names::GRPC_SERVER_1, names::GRPC_SERVER_2]}]
        }}],
        "ports": tcp_ports(&[names::WRITER_PORT])
    });

    let mut rust_api_ingress = vec![];
    if p.spec.ingress.enabled {
        rust_api_ingress.push(json!({
            "from": [all_pods_in(&p.spec.network_policies.ingress_controller_namespace)],
            "ports": tcp_ports(&[names::RUST_API_PORT])
        }));
    }
    rust_api_ingress.extend(scrape_rule(p, names::RUST_API_PORT));
    let rust_api_egress = match p.spec.rust_api.forward_mode {
        crate::crd::ForwardMode::Rest => vec![json!({
            "to": [{"podSelector": program_selector(p, names::GRPC_CLIENT)}],
            "ports": tcp_ports(&[names::GRPC_CLIENT_PORT])
        })],
        crate::crd::ForwardMode::Grpc => vec![to_writers.clone()],
    };

    let mut grpc_client_ingress = vec![json!({
        "from": [{"podSelector": program_selector(p, names::RUST_API)}],
        "ports": tcp_ports(&[names::GRPC_CLIENT_PORT])
    })];
    grpc_client_ingress.extend(scrape_rule(p, names::GRPC_CLIENT_PORT));

    let mut programs = vec![
        (names::RUST_API, rust_api_ingress, rust_api_egress),
        (
            names::GRPC_CLIENT,
            grpc_client_ingress,
            vec![to_writers.clone()],
        ),
    ];
    for writer in [names::GRPC_SERVER_1, names::GRPC_SERVER_2] {
        let mut ingress = vec![json!({
            "from": [{"podSelector": {
                "matchLabels": {names::LABEL_PIPELINE: p.name},
                "matchExpressions": [{"key": names::LABEL_NAME, "operator": "In",
                                      "values": writer_callers}]
            }}],
            "ports": tcp_ports(&[names::WRITER_PORT])
        })];
        ingress.extend(scrape_rule(p, names::WRITER_METRICS_PORT));
        programs.push((writer, ingress, vec![kafka_egress(p, kafka_ports)]));
    }
    programs.push((
        names::CONSUMER,
        scrape_rule(p, names::CONSUMER_METRICS_PORT)
            .into_iter()
            .collect(),
        vec![kafka_egress(p, kafka_ports), valkey_egress(p)],
    ));

    programs
        .into_iter()
        .map(|(program, ingress, egress)| {
            policy(
                p,
                ns,
                program,
                json!({
                    "podSelector": program_selector(p, program),
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": ingress,
                    "egress": egress
                }),
            )
        })
        .collect()
}

/// Kafka's namespace: the clients reach the listeners; Strimzi's pods reach each other; the
/// cluster operator reaches the control and replication ports; the entity operator (topic
/// operator) reaches the Kubernetes API.
fn kafka(p: &ValidPipeline, listener_ports: &[i32]) -> Vec<Child> {
    let ns = p.ns_kafka();
    let cluster = &p.spec.kafka.cluster_name;
    let same_namespace = json!({"podSelector": {}});
    let mut broker_ingress = vec![
        json!({"from": [kafka_client_peer(p)], "ports": tcp_ports(listener_ports)}),
        json!({
            "from": [{
                "namespaceSelector": {"matchLabels": {
                    NAMESPACE_NAME_LABEL: p.spec.network_policies.strimzi_operator_namespace
                }},
                "podSelector": {"matchLabels": {STRIMZI_KIND: "cluster-operator"}}
            }],
            "ports": tcp_ports(&[KAFKA_CONTROL_PORT, KAFKA_REPLICATION_PORT])
        }),
    ];
    if let Some(ns) = &p.spec.network_policies.metrics_namespace {
        // Strimzi's metrics port (tcp-prometheus), when metrics are configured on the Kafka.
        broker_ingress.push(json!({"from": [all_pods_in(ns)], "ports": tcp_ports(&[9404])}));
    }
    vec![
        policy(
            p,
            ns,
            "kafka-cluster",
            json!({
                "podSelector": {"matchLabels": {STRIMZI_CLUSTER: cluster}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [same_namespace.clone()]}],
                "egress": [{"to": [same_namespace]}]
            }),
        ),
        policy(
            p,
            ns,
            "kafka-brokers",
            json!({
                "podSelector": {"matchLabels": broker_labels(p)},
                "policyTypes": ["Ingress"],
                "ingress": broker_ingress
            }),
        ),
        policy(
            p,
            ns,
            "entity-operator",
            json!({
                "podSelector": {"matchLabels": {STRIMZI_NAME: format!("{cluster}-entity-operator")}},
                "policyTypes": ["Egress"],
                "egress": [{"ports": tcp_ports(&API_SERVER_PORTS)}]
            }),
        ),
    ]
}

/// The Valkey VMs (their virt-launcher pods carry the VM template's labels): the consumer writes
/// to the primary, Grafana reads, replicas follow the primary. KubeVirt itself needs no network
/// path into the pod: virt-handler talks to virt-launcher over a unix socket on the node, the
/// readiness probe is the kubelet's (node traffic is never blocked by a NetworkPolicy), and the
/// VMs do not live-migrate (`evictionStrategy: None`).
fn valkey(p: &ValidPipeline) -> Child {
    let vm_pods = program_selector(p, names::VALKEY);
    let mut from = vec![
        programs_in(p, p.ns_ingest(), &[names::CONSUMER]),
        json!({"podSelector": vm_pods.clone()}),
    ];
    if p.spec.grafana.enabled {
        from.push(json!({
            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: p.ns_grafana()}},
            "podSelector": {"matchLabels": {names::LABEL_NAME: "grafana"}}
        }));
    }
    let ingress = vec![json!({"from": from, "ports": tcp_ports(&[names::VALKEY_PORT])})];
    policy(
        p,
        p.ns_valkey(),
        names::VALKEY,
        json!({
            "podSelector": vm_pods.clone(),
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            // Replicas connect to the primary.
            "egress": [{"to": [{"podSelector": vm_pods}], "ports": tcp_ports(&[names::VALKEY_PORT])}]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::testing::{external_valkey_spec, get};
    use crate::build::{desired, ClusterInputs};
    use crate::crd::KafkaMode;
    use crate::validate::validate_spec;

    fn consumer_egress(spec: &crate::crd::BlackFridayPipelineSpec) -> Value {
        let p = validate_spec("bf", None, None, spec).unwrap();
        let d = desired(&p, &ClusterInputs::default());
        get(
            &d,
            ChildKind::NetworkPolicy,
            Some("ingest"),
            names::CONSUMER,
        )
        .object
        .data["spec"]["egress"]
            .clone()
    }

    #[test]
    fn external_services_at_ip_addresses_get_ip_blocks() {
        let mut spec = external_valkey_spec(false);
        spec.valkey.external.as_mut().unwrap().primary_address = "198.18.0.1:16479".into();
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers =
            Some("198.18.0.1:19192,198.18.0.2:19192,[2001:db8::1]:9092".into());
        let egress = consumer_egress(&spec);
        assert_eq!(
            egress[0],
            json!({
                "to": [{"ipBlock": {"cidr": "198.18.0.1/32"}}, {"ipBlock": {"cidr": "198.18.0.2/32"}},
                       {"ipBlock": {"cidr": "2001:db8::1/128"}}],
                "ports": [{"protocol": "TCP", "port": 19192}, {"protocol": "TCP", "port": 9092}]
            })
        );
        assert_eq!(
            egress[1],
            json!({"to": [{"ipBlock": {"cidr": "198.18.0.1/32"}}],
                   "ports": [{"protocol": "TCP", "port": 16479}]})
        );
    }

    #[test]
    fn a_dns_name_anywhere_leaves_the_ports_open_to_any_address() {
        let mut spec = external_valkey_spec(false);
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("198.18.0.1:9096,b-2.msk.example.com:9096".into());
        let egress = consumer_egress(&spec);
        assert_eq!(
            egress[0],
            json!({"ports": [{"protocol": "TCP", "port": 9096}]})
        );
        assert_eq!(
            egress[1],
            json!({"ports": [{"protocol": "TCP", "port": 6379}]})
        );
    }

    #[test]
    fn ip_hosts_are_parsed_only_when_every_host_is_an_address() {
        assert_eq!(
            ip_hosts_of("198.18.0.1:1, 198.18.0.1:2"),
            Some(vec!["198.18.0.1".parse().unwrap()])
        );
        assert_eq!(ip_hosts_of("localhost:1"), None);
        assert_eq!(ip_hosts_of(""), None);
        assert_eq!(ip_hosts_of("198.18.0.1"), None);
    }
}
