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
/// The variables the operator sets in it are asserted separately. The VMs' cloud-init Secrets are
/// shown decoded, so a user-data change reads as a diff of lines, not of base64.
fn snapshot_yaml(d: &Desired) -> String {
    let mut d = d.clone();
    for child in &mut d.children {
        if child.kind == ChildKind::Secret && child.name().ends_with("-cloud-init") {
            use base64::Engine as _;
            let data = &mut child.object.data["data"];
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(data["userdata"].as_str().unwrap())
                .unwrap();
            *data = serde_json::json!({
                "userdata (shown decoded)": String::from_utf8(decoded).unwrap()
            });
        }
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
        // The VM names its user-data Secret (KubeVirt caps inline userData at 2048 bytes).
        let source =
            &volumes.iter().find(|v| v["name"] == "cloudinit").unwrap()["cloudInitNoCloud"];
        assert!(source.get("userData").is_none(), "{name}: inline userData");
        let secret_name = source["secretRef"]["name"].as_str().unwrap();
        let secret = d
            .children
            .iter()
            .find(|c| {
                c.kind == ChildKind::Secret
                    && c.namespace() == vm.namespace()
                    && c.name() == secret_name
            })
            .unwrap_or_else(|| panic!("{name}: Secret {secret_name} is not rendered"));
        use base64::Engine as _;
        let encoded = secret.object.data["data"]["userdata"].as_str().unwrap();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap()
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

#[test]
fn external_sample_renders_no_kafka_or_valkey_tier() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/samples/pipeline-external.yaml"
    );
    let p = parse_pipeline(&std::fs::read_to_string(path).unwrap()).unwrap();
    let d = render_pipeline(&p).unwrap();
    assert_eq!(names(&d, ChildKind::Namespace), ["ingest"]);
    for kind in [
        ChildKind::VirtualMachine,
        ChildKind::PersistentVolumeClaim,
        ChildKind::Kafka,
        ChildKind::KafkaNodePool,
        ChildKind::KafkaTopic,
    ] {
        assert!(names(&d, kind).is_empty(), "{kind:?}");
    }
    for child in &d.children {
        assert!(
            !matches!(child.namespace(), Some("kafka" | "valkey")),
            "{}",
            child.key()
        );
    }
    let consumer = d
        .children
        .iter()
        .find(|c| c.kind == ChildKind::Deployment && c.name() == "consumer")
        .unwrap();
    let env = consumer.object.data["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let value = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))["value"]
            .clone()
    };
    assert_eq!(value("VALKEY_ADDR"), "valkey-primary.data.example.com:6379");
    assert_eq!(
        value("KAFKA_BROKERS"),
        "kafka-1.data.example.com:9092,kafka-2.data.example.com:9092"
    );
}
