//! Snapshots of the whole desired set: the sample pipeline, and the sample with the experiment
//! knobs turned (writers, Valkey replicas, partitions, forward mode). A builder change shows up
//! here as a reviewable YAML diff.

use blackfriday_operator::build::Desired;
use blackfriday_operator::crd::{BlackFridayPipeline, ForwardMode};
use blackfriday_operator::kinds::ChildKind;
use blackfriday_operator::render::{parse_pipeline, render_pipeline};

fn sample() -> BlackFridayPipeline {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/samples/pipeline.yaml"
    );
    parse_pipeline(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn edited() -> BlackFridayPipeline {
    let mut p = sample();
    p.spec.grpc_server1.replicas = 2;
    p.spec.valkey.replicas = 3;
    p.spec.kafka.topic.partitions = 6;
    p.spec.rust_api.forward_mode = ForwardMode::Grpc;
    p
}

/// The YAML to snapshot. The dashboard JSON belongs to the dashboard's author (and its own
/// suite); here it is replaced by a marker so their edits don't break the operator's snapshots.
/// The variables the operator sets in it are asserted separately.
fn snapshot_yaml(d: &Desired) -> String {
    let mut d = d.clone();
    for child in &mut d.children {
        if child.kind == ChildKind::ConfigMap && child.name() == "blackfriday-dashboard" {
            let data = &mut child.object.data["data"]["blackfriday.json"];
            let dashboard: serde_json::Value =
                serde_json::from_str(data.as_str().unwrap()).unwrap();
            let variables: Vec<String> = dashboard["templating"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["type"] == "constant")
                .map(|v| {
                    format!(
                        "{}={}",
                        v["name"].as_str().unwrap(),
                        v["query"].as_str().unwrap()
                    )
                })
                .collect();
            *data = serde_json::json!(format!(
                "<operator/assets/grafana/dashboard.json with {}>",
                variables.join(", ")
            ));
        }
    }
    d.to_yaml()
}

fn names(d: &Desired, kind: ChildKind) -> Vec<String> {
    d.of_kind(kind).map(|c| c.name().to_string()).collect()
}

#[test]
fn sample_renders_the_complete_system() {
    let d = render_pipeline(&sample()).unwrap();
    assert_eq!(
        names(&d, ChildKind::Namespace),
        ["ingest", "kafka", "valkey"]
    );
    assert_eq!(
        names(&d, ChildKind::Deployment),
        [
            "rust-api",
            "grpc-client",
            "grpc-server-1",
            "grpc-server-2",
            "consumer"
        ]
    );
    assert_eq!(
        names(&d, ChildKind::HorizontalPodAutoscaler),
        ["rust-api", "grpc-client", "consumer"]
    );
    assert_eq!(
        names(&d, ChildKind::VirtualMachine),
        ["valkey-0", "valkey-1"]
    );
    assert_eq!(names(&d, ChildKind::Kafka), ["blackfriday"]);
    assert_eq!(names(&d, ChildKind::KafkaNodePool), ["dual-role"]);
    assert_eq!(names(&d, ChildKind::KafkaTopic), ["ventas"]);
    assert_eq!(names(&d, ChildKind::Ingress), ["rust-api"]);
    assert_eq!(names(&d, ChildKind::ConfigMap), ["blackfriday-dashboard"]);
    insta::assert_snapshot!("sample", snapshot_yaml(&d));
}

#[test]
fn edited_sample_follows_the_knobs() {
    let d = render_pipeline(&edited()).unwrap();
    assert_eq!(
        names(&d, ChildKind::VirtualMachine),
        ["valkey-0", "valkey-1", "valkey-2"]
    );
    let topic = d.of_kind(ChildKind::KafkaTopic).next().unwrap();
    assert_eq!(topic.object.data["spec"]["partitions"], 6);
    let writer1 = d
        .children
        .iter()
        .find(|c| c.kind == ChildKind::Deployment && c.name() == "grpc-server-1")
        .unwrap();
    assert_eq!(writer1.object.data["spec"]["replicas"], 2);
    insta::assert_snapshot!("edited", snapshot_yaml(&d));
}

#[test]
fn hpa_owned_deployments_leave_replicas_out() {
    let d = render_pipeline(&sample()).unwrap();
    for name in ["rust-api", "grpc-client", "consumer"] {
        let dep = d
            .children
            .iter()
            .find(|c| c.kind == ChildKind::Deployment && c.name() == name)
            .unwrap();
        assert!(
            dep.object.data["spec"].get("replicas").is_none(),
            "{name} must not carry replicas"
        );
    }
}

#[test]
fn writers_get_headless_services() {
    let d = render_pipeline(&sample()).unwrap();
    for name in ["grpc-server-1", "grpc-server-2"] {
        let svc = d
            .children
            .iter()
            .find(|c| c.kind == ChildKind::Service && c.name() == name)
            .unwrap();
        assert_eq!(svc.object.data["spec"]["clusterIP"], "None");
    }
}

#[test]
fn every_child_carries_the_ownership_labels() {
    let d = render_pipeline(&sample()).unwrap();
    for child in &d.children {
        let labels = child.object.metadata.labels.as_ref().unwrap();
        assert_eq!(
            labels["app.kubernetes.io/managed-by"],
            "blackfriday-operator",
            "{}",
            child.key()
        );
        assert_eq!(
            labels["blackfriday.dev/pipeline"],
            "blackfriday",
            "{}",
            child.key()
        );
    }
}

#[test]
fn replicas_configure_valkey_replication() {
    let d = render_pipeline(&sample()).unwrap();
    let user_data = |name: &str| {
        let vm = d
            .children
            .iter()
            .find(|c| c.kind == ChildKind::VirtualMachine && c.name() == name)
            .unwrap();
        let volumes = vm.object.data["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap()
            .clone();
        volumes.iter().find(|v| v["name"] == "cloudinit").unwrap()["cloudInitNoCloud"]["userData"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(!user_data("valkey-0").contains("replicaof"));
    assert!(
        user_data("valkey-1").contains("replicaof valkey-primary.valkey.svc.cluster.local 6379")
    );
    assert!(user_data("valkey-1").contains("masterauth"));
    assert!(user_data("valkey-0").contains("appendonly yes"));
}

#[test]
fn a_config_change_changes_the_pod_template_hash() {
    let hash = |p: &BlackFridayPipeline| {
        let d = render_pipeline(p).unwrap();
        let dep = d
            .children
            .iter()
            .find(|c| c.kind == ChildKind::Deployment && c.name() == "rust-api")
            .unwrap();
        dep.object.data["spec"]["template"]["metadata"]["annotations"]
            ["blackfriday.dev/config-hash"]
            .clone()
    };
    assert_ne!(hash(&sample()), hash(&edited()));
}
