//! Who can reach whom under the rendered NetworkPolicies: an evaluator of `networking.k8s.io/v1`
//! semantics over the objects `render` produces, and the table docs/security.md shows (generated
//! from here and checked current by a test, so the document cannot drift from the policies).
//!
//! Semantics (Kubernetes docs, "Network Policies"): a pod selected by no policy of a type is open
//! in that direction; a selected pod admits only what some rule of a selecting policy allows; a
//! connection needs the sender's egress and the receiver's ingress. Traffic from the node (the
//! kubelet's probes) is always allowed and is not modelled. Only TCP/UDP ports by number and
//! namespace/pod selectors are modelled — what the operator renders.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::build::network_policies::{
    broker_labels, DNS_NAMESPACE, DNS_POD_LABEL, NAMESPACE_NAME_LABEL, STRIMZI_CLUSTER,
    STRIMZI_KIND, STRIMZI_NAME,
};
use crate::build::Desired;
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

type Labels = BTreeMap<String, String>;

/// Something that sends or receives: a pod (namespace + labels) or a place outside every pod.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub name: String,
    /// `None`: not a pod (the Kubernetes API, the internet). Policies select it by port only.
    pub pod: Option<(String, Labels)>,
    /// (protocol, port) it listens on.
    pub ports: Vec<(&'static str, i32)>,
    /// A place outside the pods with a known address (an external Kafka or Valkey): what an
    /// `ipBlock` peer can name.
    pub ip: Option<IpAddr>,
}

impl Endpoint {
    fn pod(name: &str, ns: &str, labels: Labels, ports: Vec<(&'static str, i32)>) -> Self {
        Self {
            name: name.to_string(),
            pod: Some((ns.to_string(), labels)),
            ports,
            ip: None,
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tcp(ports: &[i32]) -> Vec<(&'static str, i32)> {
    ports.iter().map(|p| ("TCP", *p)).collect()
}

/// Every endpoint of the pipeline (from the rendered Deployments and VMs, and the pods Strimzi
/// makes of our Kafka) plus the platform's and the outside world's.
pub fn endpoints(p: &ValidPipeline, d: &Desired) -> Vec<Endpoint> {
    let mut out = vec![Endpoint::pod(
        "ingress controller",
        &p.spec.network_policies.ingress_controller_namespace,
        labels(&[("app", "ingress-controller")]),
        tcp(&[80, 443]),
    )];
    for deployment in d.of_kind(ChildKind::Deployment) {
        let template = &deployment.object.data["spec"]["template"];
        let labels: Labels =
            serde_json::from_value(template["metadata"]["labels"].clone()).unwrap_or_default();
        let ports = template["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
            .filter_map(|port| port["containerPort"].as_i64().map(|p| ("TCP", p as i32)))
            .collect();
        out.push(Endpoint::pod(
            deployment.name(),
            deployment.namespace().unwrap_or_default(),
            labels,
            ports,
        ));
    }
    if p.kafka_managed() {
        let cluster = p.spec.kafka.cluster_name.as_str();
        let brokers: Labels = serde_json::from_value(broker_labels(p)).unwrap_or_default();
        let mut broker_ports = crate::build::network_policies::kafka_listener_ports(&d.children);
        broker_ports.extend([
            crate::build::network_policies::KAFKA_CONTROL_PORT,
            crate::build::network_policies::KAFKA_REPLICATION_PORT,
        ]);
        out.push(Endpoint::pod(
            "Kafka broker",
            p.ns_kafka(),
            brokers,
            tcp(&broker_ports),
        ));
        out.push(Endpoint::pod(
            "entity operator",
            p.ns_kafka(),
            labels(&[
                (STRIMZI_CLUSTER, cluster),
                (STRIMZI_KIND, "Kafka"),
                (STRIMZI_NAME, &format!("{cluster}-entity-operator")),
            ]),
            tcp(&[8080]),
        ));
        out.push(Endpoint::pod(
            "Strimzi operator",
            &p.spec.network_policies.strimzi_operator_namespace,
            labels(&[(STRIMZI_KIND, "cluster-operator")]),
            tcp(&[8080]),
        ));
    }
    // One VM per role is enough: the primary and a replica carry the same selector labels.
    if let Some(vm) = d.of_kind(ChildKind::VirtualMachine).next() {
        let labels: Labels = serde_json::from_value(
            vm.object.data["spec"]["template"]["metadata"]["labels"].clone(),
        )
        .unwrap_or_default();
        out.push(Endpoint::pod(
            "Valkey VM",
            p.ns_valkey(),
            labels,
            tcp(&[names::VALKEY_PORT]),
        ));
    }
    out.push(Endpoint::pod(
        "Grafana",
        p.ns_grafana(),
        labels(&[(names::LABEL_NAME, "grafana")]),
        tcp(&[3000]),
    ));
    out.push(Endpoint::pod(
        "cluster DNS",
        DNS_NAMESPACE,
        labels(&[DNS_POD_LABEL]),
        vec![("UDP", 53), ("TCP", 53)],
    ));
    // A pod none of our per-program policies selects: only the namespace's default deny holds it.
    out.push(Endpoint::pod(
        "stray pod in ingest",
        p.ns_ingest(),
        labels(&[("app", "stray")]),
        tcp(&[8080]),
    ));
    out.push(Endpoint::pod(
        "any other pod",
        "default",
        Labels::new(),
        tcp(&[8080]),
    ));
    out.push(Endpoint {
        name: "Kubernetes API".into(),
        pod: None,
        ports: tcp(&[443]),
        ip: None,
    });
    out.push(Endpoint {
        name: "outside the cluster".into(),
        pod: None,
        ports: tcp(&[443]),
        ip: None,
    });
    out
}

/// The labels of a namespace: the API server's name label, plus what we render on our own.
fn namespace_labels(d: &Desired, ns: &str) -> Labels {
    let mut labels = labels(&[(NAMESPACE_NAME_LABEL, ns)]);
    if let Some(namespace) = d.find(ChildKind::Namespace, None, ns) {
        labels.extend(namespace.object.metadata.labels.clone().unwrap_or_default());
    }
    labels
}

fn selector_matches(selector: &Value, labels: &Labels) -> bool {
    let match_labels = selector["matchLabels"].as_object();
    let labels_ok = match_labels
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let expressions_ok = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let value = labels.get(key).map(String::as_str);
            match e["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v)),
                Some("NotIn") => !value.is_some_and(|v| values.contains(&v)),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        });
    labels_ok && expressions_ok
}

/// Does a `from`/`to` peer of a policy in `policy_ns` match `other`?
fn peer_matches(d: &Desired, peer: &Value, policy_ns: &str, other: &Endpoint) -> bool {
    let Some((ns, pod_labels)) = &other.pod else {
        // only an ipBlock names a non-pod (we render host blocks for external services; pods are
        // never matched by them here, as the operator's blocks name addresses outside the cluster)
        return peer
            .get("ipBlock")
            .is_some_and(|block| ip_block_contains(block, other.ip));
    };
    if peer.get("ipBlock").is_some() {
        return false;
    }
    let ns_ok = match peer.get("namespaceSelector") {
        Some(selector) => selector_matches(selector, &namespace_labels(d, ns)),
        None => ns == policy_ns,
    };
    let pod_ok = peer
        .get("podSelector")
        .is_none_or(|selector| selector_matches(selector, pod_labels));
    ns_ok
        && pod_ok
        && (peer.get("namespaceSelector").is_some() || peer.get("podSelector").is_some())
}

/// Whether `ip` lies in the block's CIDR and outside its `except` list.
fn ip_block_contains(block: &Value, ip: Option<IpAddr>) -> bool {
    let Some(ip) = ip else { return false };
    let in_cidr = |cidr: &str| -> bool {
        let Some((net, bits)) = cidr.split_once('/') else {
            return false;
        };
        let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
            return false;
        };
        match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    };
    block["cidr"].as_str().is_some_and(in_cidr)
        && !block["except"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(in_cidr)
}

fn port_matches(rule: &Value, protocol: &str, port: i32) -> bool {
    match rule["ports"].as_array() {
        None => true,
        Some(ports) if ports.is_empty() => true,
        Some(ports) => ports.iter().any(|p| {
            p["protocol"].as_str().unwrap_or("TCP") == protocol
                && p["port"].as_i64().is_none_or(|n| n as i32 == port)
        }),
    }
}

/// Whether `pod` may send (`direction` Egress) to / receive (Ingress) from `other` on a port.
fn direction_allows(
    d: &Desired,
    pod: &Endpoint,
    other: &Endpoint,
    direction: &str,
    protocol: &str,
    port: i32,
) -> bool {
    let Some((ns, labels)) = &pod.pod else {
        return true; // not a pod: no policy applies to it
    };
    let (rules_key, peers_key) = match direction {
        "Egress" => ("egress", "to"),
        _ => ("ingress", "from"),
    };
    let selecting: Vec<&Value> = d
        .of_kind(ChildKind::NetworkPolicy)
        .filter(|policy| policy.namespace() == Some(ns.as_str()))
        .map(|policy| &policy.object.data["spec"])
        .filter(|spec| selector_matches(&spec["podSelector"], labels))
        .filter(|spec| {
            spec["policyTypes"]
                .as_array()
                .is_some_and(|types| types.iter().any(|t| t == direction))
        })
        .collect();
    if selecting.is_empty() {
        return true;
    }
    selecting.iter().any(|spec| {
        spec[rules_key]
            .as_array()
            .into_iter()
            .flatten()
            .any(|rule| {
                let peers_ok = match rule[peers_key].as_array() {
                    None => true,
                    Some(peers) if peers.is_empty() => true,
                    Some(peers) => peers.iter().any(|peer| peer_matches(d, peer, ns, other)),
                };
                peers_ok && port_matches(rule, protocol, port)
            })
    })
}

/// Whether `from` can open a connection to `to` on (protocol, port).
pub fn allowed(d: &Desired, from: &Endpoint, to: &Endpoint, protocol: &str, port: i32) -> bool {
    direction_allows(d, from, to, "Egress", protocol, port)
        && direction_allows(d, to, from, "Ingress", protocol, port)
}

/// The ports of `to` that `from` can reach, as `53/UDP, 8080`-style text ("·" for none).
pub fn reachable_ports(d: &Desired, from: &Endpoint, to: &Endpoint) -> String {
    let ports: Vec<String> = to
        .ports
        .iter()
        .filter(|(protocol, port)| allowed(d, from, to, protocol, *port))
        .map(|(protocol, port)| match *protocol {
            "TCP" => port.to_string(),
            other => format!("{port}/{other}"),
        })
        .collect();
    if ports.is_empty() {
        "·".into()
    } else {
        ports.join(", ")
    }
}

/// The Markdown table: one row per sender, one column per receiver, the reachable ports in each
/// cell ("—" on the diagonal: a pod talking to itself is not a network edge).
pub fn table(p: &ValidPipeline, d: &Desired) -> String {
    let all = endpoints(p, d);
    // Receivers: what lives in the namespaces we close, plus DNS, the API and the internet (the
    // platform's own pods sit in namespaces without our policies and are not our business here).
    let ours = [p.ns_ingest(), p.ns_kafka(), p.ns_valkey()];
    let receivers: Vec<&Endpoint> = all
        .iter()
        .filter(|e| match &e.pod {
            Some((ns, _)) => ours.contains(&ns.as_str()) || e.name == "cluster DNS",
            None => true,
        })
        .collect();
    let mut out = String::from("| from \\ to |");
    for to in &receivers {
        out.push_str(&format!(" {} |", to.name));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(receivers.len()));
    out.push('\n');
    for from in all.iter().filter(|e| e.name != "Kubernetes API") {
        out.push_str(&format!("| **{}** |", from.name));
        for to in &receivers {
            let cell = if from.name == to.name {
                "—".to_string()
            } else {
                reachable_ports(d, from, to)
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{desired, ClusterInputs};
    use crate::crd::{BlackFridayPipelineSpec, ForwardMode, KafkaMode, ValkeyMode};
    use crate::validate::validate_spec;

    fn render(spec: &BlackFridayPipelineSpec) -> (ValidPipeline, Desired) {
        let p = validate_spec("bf", None, None, spec).unwrap();
        let d = desired(&p, &ClusterInputs::default());
        (p, d)
    }

    fn endpoint<'a>(all: &'a [Endpoint], name: &str) -> &'a Endpoint {
        all.iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no endpoint {name}"))
    }

    /// (from, to, port, expected) against the default spec's render.
    fn check(spec: &BlackFridayPipelineSpec, cases: &[(&str, &str, i32, bool)]) {
        let (p, d) = render(spec);
        let all = endpoints(&p, &d);
        for (from, to, port, expected) in cases {
            let got = allowed(&d, endpoint(&all, from), endpoint(&all, to), "TCP", *port);
            assert_eq!(got, *expected, "{from} → {to}:{port}");
        }
    }

    #[test]
    fn the_pipeline_edges_are_open_and_nothing_else() {
        check(
            &BlackFridayPipelineSpec::default(),
            &[
                ("ingress controller", "rust-api", 8080, true),
                ("rust-api", "grpc-client", 8081, true),
                ("grpc-client", "grpc-server-1", 50051, true),
                ("grpc-client", "grpc-server-2", 50051, true),
                ("grpc-server-1", "Kafka broker", 9093, true),
                ("grpc-server-2", "Kafka broker", 9093, true),
                ("consumer", "Kafka broker", 9093, true),
                ("consumer", "Valkey VM", 6379, true),
                ("Grafana", "Valkey VM", 6379, true),
                ("entity operator", "Kafka broker", 9091, true),
                ("Strimzi operator", "Kafka broker", 9091, true),
                ("entity operator", "Kubernetes API", 443, true),
                // Not edges of the pipeline:
                ("any other pod", "rust-api", 8080, false),
                ("outside the cluster", "rust-api", 8080, false),
                ("ingress controller", "grpc-client", 8081, false),
                ("rust-api", "grpc-server-1", 50051, false),
                ("rust-api", "Kafka broker", 9093, false),
                ("rust-api", "Valkey VM", 6379, false),
                ("grpc-client", "Kafka broker", 9093, false),
                ("grpc-server-1", "Valkey VM", 6379, false),
                ("Grafana", "Kafka broker", 9093, false),
                ("any other pod", "Kafka broker", 9093, false),
                ("any other pod", "Valkey VM", 6379, false),
                ("consumer", "outside the cluster", 443, false),
                ("rust-api", "Kubernetes API", 443, false),
                ("Kafka broker", "Kubernetes API", 443, false),
                ("Valkey VM", "outside the cluster", 443, false),
                ("Strimzi operator", "Kafka broker", 9093, false),
                ("stray pod in ingest", "outside the cluster", 443, false),
                ("stray pod in ingest", "rust-api", 8080, false),
                ("any other pod", "stray pod in ingest", 8080, false),
            ],
        );
    }

    #[test]
    fn every_pod_of_ours_resolves_names_and_nothing_else_in_kube_system() {
        let (p, d) = render(&BlackFridayPipelineSpec::default());
        let all = endpoints(&p, &d);
        let dns = endpoint(&all, "cluster DNS");
        for e in all.iter().filter(|e| {
            e.pod
                .as_ref()
                .is_some_and(|(ns, _)| ["ingest", "kafka", "valkey"].contains(&ns.as_str()))
        }) {
            assert!(allowed(&d, e, dns, "UDP", 53), "{} → DNS", e.name);
            assert!(
                !allowed(&d, e, dns, "TCP", 8080),
                "{} → kube-system:8080",
                e.name
            );
        }
    }

    #[test]
    fn grpc_forward_mode_moves_rust_apis_edge_to_the_writers() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.rust_api.forward_mode = ForwardMode::Grpc;
        check(
            &spec,
            &[
                ("rust-api", "grpc-server-1", 50051, true),
                ("rust-api", "grpc-client", 8081, false),
            ],
        );
    }

    #[test]
    fn metrics_are_scraped_only_from_the_named_namespace() {
        let mut spec = BlackFridayPipelineSpec::default();
        check(&spec, &[("any other pod", "consumer", 9201, false)]);
        spec.network_policies.metrics_namespace = Some("default".into());
        check(
            &spec,
            &[
                ("any other pod", "consumer", 9201, true),
                ("any other pod", "grpc-server-1", 9101, true),
                ("any other pod", "grpc-server-1", 50051, false),
            ],
        );
    }

    #[test]
    fn external_kafka_is_reached_by_its_port_anywhere() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("b-1.msk.example.com:9096".into());
        let (p, d) = render(&spec);
        let all = endpoints(&p, &d);
        let outside = Endpoint {
            name: "MSK".into(),
            pod: None,
            ports: tcp(&[9096]),
            ip: Some("198.18.7.7".parse().unwrap()),
        };
        assert!(allowed(
            &d,
            endpoint(&all, "grpc-server-1"),
            &outside,
            "TCP",
            9096
        ));
        assert!(!allowed(
            &d,
            endpoint(&all, "grpc-server-1"),
            &outside,
            "TCP",
            443
        ));
        assert!(!allowed(
            &d,
            endpoint(&all, "rust-api"),
            &outside,
            "TCP",
            9096
        ));
        assert_eq!(
            d.find(ChildKind::NetworkPolicy, Some("kafka"), "default-deny")
                .map(|_| ()),
            None
        );
    }

    #[test]
    fn external_services_at_ip_addresses_are_reached_there_only() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("198.18.0.1:19192".into());
        spec.valkey.mode = ValkeyMode::External;
        spec.valkey.external = Some(crate::crd::ExternalValkeySpec {
            primary_address: "198.18.0.1:16479".into(),
            read_address: None,
            password_secret: None,
        });
        let (p, d) = render(&spec);
        let all = endpoints(&p, &d);
        let at = |ip: &str, port: i32| Endpoint {
            name: format!("{ip}:{port}"),
            pod: None,
            ports: tcp(&[port]),
            ip: Some(ip.parse().unwrap()),
        };
        let (kafka, valkey) = (at("198.18.0.1", 19192), at("198.18.0.1", 16479));
        let elsewhere = at("198.18.0.2", 19192);
        let writer = endpoint(&all, "grpc-server-1");
        let consumer = endpoint(&all, "consumer");
        assert!(allowed(&d, writer, &kafka, "TCP", 19192));
        assert!(allowed(&d, consumer, &kafka, "TCP", 19192));
        assert!(allowed(&d, consumer, &valkey, "TCP", 16479));
        // the same port elsewhere, the other service's port, and the programs that are no clients
        assert!(!allowed(&d, writer, &elsewhere, "TCP", 19192));
        assert!(!allowed(&d, writer, &valkey, "TCP", 16479));
        assert!(!allowed(
            &d,
            endpoint(&all, "rust-api"),
            &kafka,
            "TCP",
            19192
        ));
        assert!(!allowed(
            &d,
            endpoint(&all, "grpc-client"),
            &valkey,
            "TCP",
            16479
        ));
    }

    #[test]
    fn switched_off_renders_no_policy_and_everything_is_open() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.network_policies.enabled = false;
        let (_, d) = render(&spec);
        assert_eq!(d.of_kind(ChildKind::NetworkPolicy).count(), 0);
        check(&spec, &[("any other pod", "Valkey VM", 6379, true)]);
        // and Strimzi's own listener policy is left open too
        let kafka = d
            .find(ChildKind::Kafka, Some("kafka"), "blackfriday")
            .unwrap();
        assert!(kafka.object.data["spec"]["kafka"]["listeners"][0]
            .get("networkPolicyPeers")
            .is_none());
    }

    #[test]
    fn strimzis_listener_policy_names_only_the_kafka_clients() {
        let (_, d) = render(&BlackFridayPipelineSpec::default());
        let kafka = d
            .find(ChildKind::Kafka, Some("kafka"), "blackfriday")
            .unwrap();
        let peers = &kafka.object.data["spec"]["kafka"]["listeners"][0]["networkPolicyPeers"];
        assert_eq!(
            peers[0]["podSelector"]["matchExpressions"][0]["values"],
            serde_json::json!(["grpc-server-1", "grpc-server-2", "consumer"])
        );
        assert_eq!(
            peers[0]["namespaceSelector"]["matchLabels"][NAMESPACE_NAME_LABEL],
            "ingest"
        );
    }
}
