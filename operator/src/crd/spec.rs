//! The `BlackFridayPipeline` spec: every knob a user has, with defaults that make `spec: {}` work.
//!
//! Bounds that one field can check (ranges, enums, patterns) are schema attributes; rules that
//! tie fields together are CEL (`x-kubernetes-validations`), so the API server refuses a bad spec
//! before the operator ever sees it. What CEL cannot say is checked in `crate::validate`.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::BlackFridayPipelineStatus;

// clippy reads the repeated `type_` keys of the printcolumns as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
/// One Black Friday sales pipeline: ingest (rust-api, grpc-client, writers), Kafka, the consumer,
/// Valkey in VMs and the Grafana dashboard, all reconciled from this one resource.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "blackfriday.dev",
    version = "v1alpha1",
    kind = "BlackFridayPipeline",
    plural = "blackfridaypipelines",
    shortname = "bfp",
    status = "BlackFridayPipelineStatus",
    derive = "PartialEq",
    doc = "A Black Friday sales pipeline, reconciled by blackfriday-operator",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Writers",
        type_ = "integer",
        json_path = ".status.writerReplicas",
        description = "grpc-server-1 + grpc-server-2 replicas"
    ),
    printcolumn(
        name = "Valkey",
        type_ = "integer",
        json_path = ".spec.valkey.replicas",
        description = "Valkey VM replicas (primary + replicas)"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(self.grafana.namespace in [self.namespaces.ingest, self.namespaces.kafka, self.namespaces.valkey])").message("grafana.namespace must differ from the tier namespaces (the operator owns those)").field_path(".grafana.namespace"))]
#[x_kube(validation = Rule::new("!(has(self.vpa) && has(self.vpa.enabled) && self.vpa.enabled && has(self.vpa.updateMode) && self.vpa.updateMode != 'Off') || (has(self.grpcClient) && has(self.grpcClient.replicas) && has(self.consumer) && has(self.consumer.replicas))").message("vpa.updateMode Initial/Recreate would change the CPU requests the CPU HPAs of grpcClient and consumer scale on: use updateMode Off (recommendations only) or fixed grpcClient.replicas and consumer.replicas").field_path(".vpa.updateMode"))]
pub struct BlackFridayPipelineSpec {
    /// Stop reconciling: the operator leaves every child as it is and reports `Paused`.
    #[serde(default)]
    pub paused: bool,
    /// DNS suffix of Services inside the cluster (used in the addresses handed to the programs).
    #[serde(default = "default_cluster_domain")]
    #[schemars(length(min = 1))]
    pub cluster_domain: String,
    /// Where every image (and the Valkey VM disk) is pulled from: the Zot registry.
    #[serde(default)]
    pub registry: RegistrySpec,
    /// Full image references that replace `<host>/<repository>/<component>:<tag>` per component.
    #[serde(default)]
    pub images: ImageOverrides,
    /// The namespaces the tiers are spread over. The operator's install creates them and grants
    /// the operator its rights there (Helm value `tierNamespaces`); the operator labels them.
    #[serde(default)]
    pub namespaces: NamespacesSpec,
    /// How Locust reaches rust-api from outside.
    #[serde(default)]
    pub ingress: IngressSpec,
    /// The HTTP entry point (Rust, axum).
    #[serde(default)]
    pub rust_api: RustApiSpec,
    /// The REST → gRPC bridge (Go).
    #[serde(default)]
    pub grpc_client: GrpcClientSpec,
    /// The first writer tier (Go gRPC server producing to Kafka).
    #[serde(default = "WriterSpec::one")]
    pub grpc_server1: WriterSpec,
    /// The second writer tier (same image as grpc-server-1).
    #[serde(default = "WriterSpec::two")]
    pub grpc_server2: WriterSpec,
    /// The Kafka cluster (Strimzi) and the sales topic.
    #[serde(default)]
    pub kafka: KafkaSpec,
    /// The Kafka → Valkey consumer (Go).
    #[serde(default)]
    pub consumer: ConsumerSpec,
    /// Valkey running in KubeVirt virtual machines.
    #[serde(default)]
    pub valkey: ValkeySpec,
    /// The Grafana datasource and dashboard the operator provisions into the Helm release.
    #[serde(default)]
    pub grafana: GrafanaSpec,
    /// VerticalPodAutoscaler objects for the Go tiers (needs the VPA CRDs).
    #[serde(default)]
    pub vpa: VpaSpec,
    /// NetworkPolicies in the namespaces the operator owns (default deny + the pipeline's edges).
    #[serde(default)]
    pub network_policies: super::NetworkPoliciesSpec,
}

impl Default for BlackFridayPipelineSpec {
    /// The same values the API server fills in for `spec: {}`.
    fn default() -> Self {
        Self {
            paused: false,
            cluster_domain: default_cluster_domain(),
            registry: RegistrySpec::default(),
            images: ImageOverrides::default(),
            namespaces: NamespacesSpec::default(),
            ingress: IngressSpec::default(),
            rust_api: RustApiSpec::default(),
            grpc_client: GrpcClientSpec::default(),
            grpc_server1: WriterSpec::one(),
            grpc_server2: WriterSpec::two(),
            kafka: KafkaSpec::default(),
            consumer: ConsumerSpec::default(),
            valkey: ValkeySpec::default(),
            grafana: GrafanaSpec::default(),
            vpa: VpaSpec::default(),
            network_policies: super::NetworkPoliciesSpec::default(),
        }
    }
}

fn default_cluster_domain() -> String {
    "cluster.local".into()
}

/// The Zot registry.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySpec {
    /// Registry host and port, e.g. `zot.example.internal:5000`.
    #[serde(default = "default_registry_host")]
    #[schemars(length(min = 1))]
    pub host: String,
    /// Repository prefix under the host: images are `<host>/<repository>/<component>:<tag>`.
    #[serde(default = "default_repository")]
    #[schemars(length(min = 1))]
    pub repository: String,
    /// Tag of every component image.
    #[serde(default = "default_tag")]
    #[schemars(length(min = 1))]
    pub tag: String,
    /// A `kubernetes.io/dockerconfigjson` Secret the operator copies into every namespace that
    /// pulls from the registry (and names in the pods' and VMs' pull secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secret: Option<SecretRef>,
    /// Image pull policy of the pods.
    #[serde(default)]
    pub pull_policy: PullPolicy,
}

impl Default for RegistrySpec {
    fn default() -> Self {
        Self {
            host: default_registry_host(),
            repository: default_repository(),
            tag: default_tag(),
            pull_secret: None,
            pull_policy: PullPolicy::default(),
        }
    }
}

fn default_registry_host() -> String {
    "zot.blackfriday.internal:5000".into()
}
fn default_repository() -> String {
    "blackfriday".into()
}
fn default_tag() -> String {
    "latest".into()
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PullPolicy {
    Always,
    #[default]
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// A Secret somewhere in the cluster.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the Secret (the pipeline is cluster-scoped, so it must be said).
    #[schemars(length(min = 1, max = 63))]
    pub namespace: String,
}

/// Per-component image overrides (full references, e.g. `zot:5000/team/rust-api:dev`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_api: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_client: Option<String>,
    /// The writer image, used by grpc-server-1 and grpc-server-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<String>,
    /// The Valkey VM containerDisk (an OCI image holding the VM's boot disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valkey_disk: Option<String>,
}

/// Namespaces per tier. The Grafana namespace belongs to its Helm release: see `grafana.namespace`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.ingest != self.kafka && self.ingest != self.valkey && self.kafka != self.valkey").message("ingest, kafka and valkey namespaces must differ"))]
pub struct NamespacesSpec {
    /// rust-api, grpc-client, the writers and the consumer.
    #[serde(default = "default_ns_ingest")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub ingest: String,
    /// The Strimzi Kafka cluster and topic.
    #[serde(default = "default_ns_kafka")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub kafka: String,
    /// The Valkey virtual machines and their Services and disks.
    #[serde(default = "default_ns_valkey")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub valkey: String,
}

impl Default for NamespacesSpec {
    fn default() -> Self {
        Self {
            ingest: default_ns_ingest(),
            kafka: default_ns_kafka(),
            valkey: default_ns_valkey(),
        }
    }
}

fn default_ns_ingest() -> String {
    "ingest".into()
}
fn default_ns_kafka() -> String {
    "kafka".into()
}
fn default_ns_valkey() -> String {
    "valkey".into()
}

/// The Ingress in front of rust-api.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// IngressClass name.
    #[serde(default = "default_ingress_class")]
    #[schemars(length(min = 1))]
    pub class_name: String,
    /// Host to match; empty matches every host (handy with a bare load balancer IP).
    #[serde(default)]
    pub host: String,
    /// Path prefix routed to rust-api.
    #[serde(default = "default_ingress_path")]
    #[schemars(regex(pattern = r"^/"))]
    pub path: String,
    /// TLS with a certificate Secret in the ingest namespace (needs `host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<IngressTls>,
}

impl Default for IngressSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            class_name: default_ingress_class(),
            host: String::new(),
            path: default_ingress_path(),
            tls: None,
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_ingress_class() -> String {
    "nginx".into()
}
fn default_ingress_path() -> String {
    "/".into()
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressTls {
    /// A `kubernetes.io/tls` Secret in the ingest namespace.
    #[schemars(length(min = 1))]
    pub secret_name: String,
}

/// A HorizontalPodAutoscaler on CPU.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.minReplicas <= self.maxReplicas").message("minReplicas must be <= maxReplicas"))]
pub struct AutoscalingSpec {
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 1000))]
    pub min_replicas: i32,
    #[serde(default = "three")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_replicas: i32,
    /// Average CPU utilization (percent of the CPU request) the HPA aims for.
    #[serde(default = "thirty")]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_utilization_percentage: i32,
    /// How fast the HPA scales (autoscaling/v2 `behavior`); absent: Kubernetes' defaults (scale
    /// up at once, scale down after a 300 s stabilization window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<ScalingBehaviorSpec>,
}

impl AutoscalingSpec {
    pub fn new(min: i32, max: i32) -> Self {
        Self {
            min_replicas: min,
            max_replicas: max,
            target_cpu_utilization_percentage: 30,
            behavior: None,
        }
    }
}

/// autoscaling/v2 `HorizontalPodAutoscalerBehavior`; each direction left out keeps Kubernetes'
/// default for it.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScalingBehaviorSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScalingRulesSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScalingRulesSpec>,
}

/// autoscaling/v2 `HPAScalingRules`, with the API server's bounds.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScalingRulesSpec {
    /// Seconds of past recommendations the HPA considers (it acts on the highest for scale-down,
    /// the lowest for scale-up), so a short dip or spike does not move replicas. 0–3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub stabilization_window_seconds: Option<i32>,
    /// Which policy wins when several allow a change: `Max` (default), `Min`, or `Disabled`
    /// (never scale in this direction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
    /// How much may change per period (absent: Kubernetes' default policies for the direction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 10))]
    pub policies: Option<Vec<ScalingPolicySpec>>,
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

impl SelectPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Max => "Max",
            Self::Min => "Min",
            Self::Disabled => "Disabled",
        }
    }
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingPolicyType {
    /// `value` pods per period.
    Pods,
    /// `value` percent of the current replicas per period.
    Percent,
}

impl ScalingPolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pods => "Pods",
            Self::Percent => "Percent",
        }
    }
}

/// One `HPAScalingPolicy`: at most `value` (pods or percent) per `periodSeconds`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicySpec {
    #[serde(rename = "type")]
    pub type_: ScalingPolicyType,
    #[schemars(range(min = 1))]
    pub value: i32,
    #[schemars(range(min = 1, max = 1800))]
    pub period_seconds: i32,
}

impl Default for AutoscalingSpec {
    fn default() -> Self {
        Self::new(1, 3)
    }
}

fn one() -> i32 {
    1
}
fn three() -> i32 {
    3
}
fn thirty() -> i32 {
    30
}

/// CPU/memory requests and limits, as Kubernetes quantities.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
}

/// How rust-api passes a sale on.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ForwardMode {
    /// HTTP/JSON to grpc-client, which calls the writers (the brief's path).
    #[default]
    Rest,
    /// gRPC straight to the writers (for the REST vs gRPC comparison).
    Grpc,
}

impl ForwardMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::Grpc => "grpc",
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RustApiSpec {
    /// rust-api always runs under an HPA (default 1–3 replicas at 30 % CPU).
    #[serde(default)]
    pub autoscaling: AutoscalingSpec,
    #[serde(default)]
    pub forward_mode: ForwardMode,
    #[serde(default)]
    pub resources: ResourcesSpec,
}

/// Which writers grpc-client (and rust-api in grpc mode) send to.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum WriterRoute {
    /// Both writer tiers, balanced per call across every writer pod.
    #[default]
    Both,
    #[serde(rename = "grpc-server-1")]
    GrpcServer1,
    #[serde(rename = "grpc-server-2")]
    GrpcServer2,
}

impl WriterRoute {
    /// The value grpc-client's ROUTE takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::GrpcServer1 => "grpc-server-1",
            Self::GrpcServer2 => "grpc-server-2",
        }
    }
}

/// Either a fixed `replicas` or an `autoscaling` block (neither: an HPA with the defaults).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.replicas) && has(self.autoscaling))").message("set either replicas or autoscaling, not both"))]
pub struct GrpcClientSpec {
    /// Fixed replica count; no HPA then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub replicas: Option<i32>,
    /// HPA bounds (default 1–3 at 30 % CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingSpec>,
    #[serde(default)]
    pub writer_route: WriterRoute,
    #[serde(default)]
    pub resources: ResourcesSpec,
}

/// One writer tier (a Deployment of the grpc-server image).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WriterSpec {
    #[schemars(range(min = 0, max = 1000))]
    pub replicas: i32,
    #[serde(default)]
    pub resources: ResourcesSpec,
}

impl WriterSpec {
    pub fn one() -> Self {
        Self {
            replicas: 1,
            resources: ResourcesSpec::default(),
        }
    }
    pub fn two() -> Self {
        Self {
            replicas: 2,
            resources: ResourcesSpec::default(),
        }
    }
}

impl Default for WriterSpec {
    fn default() -> Self {
        Self::one()
    }
}

/// Who runs Kafka.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KafkaMode {
    /// The operator declares a Strimzi Kafka + KafkaNodePool + KafkaTopic.
    #[default]
    Strimzi,
    /// Use `bootstrapServers` as is; nothing Kafka-side is created.
    External,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.mode != 'external' || (has(self.bootstrapServers) && self.bootstrapServers != '')").message("bootstrapServers is required when mode is external"))]
#[x_kube(validation = Rule::new("self.mode != 'strimzi' || self.topic.replicas <= self.nodePool.replicas").message("topic.replicas must be <= nodePool.replicas (one copy per broker)"))]
#[x_kube(validation = Rule::new("self.mode == 'external' || (!has(self.sasl) && !has(self.tls))").message("sasl and tls are for mode external; the Strimzi Kafka's login is kafka.authentication"))]
#[x_kube(validation = Rule::new("!has(self.sasl) || self.sasl.mechanism != 'PLAIN' || has(self.tls)").message("sasl.mechanism PLAIN needs tls: it sends the password as it is"))]
pub struct KafkaSpec {
    #[serde(default)]
    pub mode: KafkaMode,
    /// Name of the Strimzi Kafka object (Services are `<name>-kafka-bootstrap`).
    #[serde(default = "default_kafka_cluster")]
    #[schemars(
        length(min = 1, max = 40),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub cluster_name: String,
    /// `host:port,...` of an existing Kafka (mode external).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_servers: Option<String>,
    /// Kafka version for Strimzi (empty: Strimzi's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default)]
    pub node_pool: KafkaNodePoolSpec,
    #[serde(default)]
    pub topic: KafkaTopicSpec,
    /// How the programs log in to the Strimzi Kafka (mode strimzi): `scram-sha-512` (default: a
    /// TLS listener, a KafkaUser and ACLs per program) or `none` (the plain listener, open).
    #[serde(default)]
    pub authentication: super::KafkaAuthentication,
    /// SASL login to an external Kafka (mode external). Absent: no login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sasl: Option<super::ExternalKafkaSasl>,
    /// TLS to an external Kafka (mode external). Absent: plain TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<super::ExternalKafkaTls>,
}

impl Default for KafkaSpec {
    fn default() -> Self {
        Self {
            mode: KafkaMode::Strimzi,
            cluster_name: default_kafka_cluster(),
            bootstrap_servers: None,
            version: None,
            node_pool: KafkaNodePoolSpec::default(),
            topic: KafkaTopicSpec::default(),
            authentication: super::KafkaAuthentication::default(),
            sasl: None,
            tls: None,
        }
    }
}

fn default_kafka_cluster() -> String {
    "blackfriday".into()
}

/// The one KafkaNodePool: KRaft nodes with both the controller and the broker role.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KafkaNodePoolSpec {
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    pub replicas: i32,
    #[serde(default)]
    pub storage: KafkaStorageSpec,
    #[serde(default)]
    pub resources: ResourcesSpec,
}

impl Default for KafkaNodePoolSpec {
    fn default() -> Self {
        Self {
            replicas: 1,
            storage: KafkaStorageSpec::default(),
            resources: ResourcesSpec::default(),
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KafkaStorageSpec {
    #[serde(default, rename = "type")]
    pub type_: KafkaStorageType,
    /// Volume size (persistent-claim only).
    #[serde(default = "default_kafka_size")]
    pub size: String,
    /// StorageClass (persistent-claim only; empty: the cluster default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// Delete the broker PVCs when the node pool is deleted.
    #[serde(default = "default_true")]
    pub delete_claim: bool,
}

impl Default for KafkaStorageSpec {
    fn default() -> Self {
        Self {
            type_: KafkaStorageType::PersistentClaim,
            size: default_kafka_size(),
            storage_class_name: None,
            delete_claim: true,
        }
    }
}

fn default_kafka_size() -> String {
    "10Gi".into()
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KafkaStorageType {
    Ephemeral,
    #[default]
    PersistentClaim,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KafkaTopicSpec {
    /// Topic name (Kafka-side name, also the KafkaTopic object's name).
    #[serde(default = "default_topic")]
    #[schemars(
        length(min = 1, max = 249),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Partitions: the most consumer pods that can share the work. Kafka can't decrease it.
    #[serde(default = "three")]
    #[schemars(range(min = 1, max = 10000))]
    #[x_kube(validation = Rule::new("self >= oldSelf").message("partitions cannot decrease"))]
    pub partitions: i32,
    /// Copies of each partition (≤ brokers).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 32767))]
    pub replicas: i32,
    /// How long records are kept, in milliseconds.
    #[serde(default = "default_retention_ms")]
    #[schemars(range(min = 60000))]
    pub retention_ms: i64,
}

impl Default for KafkaTopicSpec {
    fn default() -> Self {
        Self {
            name: default_topic(),
            partitions: 3,
            replicas: 1,
            retention_ms: default_retention_ms(),
        }
    }
}

fn default_topic() -> String {
    "ventas".into()
}
fn default_retention_ms() -> i64 {
    7 * 24 * 3600 * 1000
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.replicas) && has(self.autoscaling))").message("set either replicas or autoscaling, not both"))]
pub struct ConsumerSpec {
    /// Fixed replica count; no HPA then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub replicas: Option<i32>,
    /// HPA bounds (default 1–2 at 30 % CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingSpec>,
    /// Kafka consumer group.
    #[serde(default = "default_group")]
    #[schemars(length(min = 1))]
    pub group: String,
    #[serde(default)]
    pub resources: ResourcesSpec,
}

impl Default for ConsumerSpec {
    fn default() -> Self {
        Self {
            replicas: None,
            autoscaling: None,
            group: default_group(),
            resources: ResourcesSpec::default(),
        }
    }
}

fn default_group() -> String {
    "ventas-valkey".into()
}

/// Who runs Valkey.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ValkeyMode {
    /// The operator runs Valkey in KubeVirt VMs (VMs, data PVCs, Services, password Secret).
    #[default]
    Managed,
    /// Use `valkey.external` as is (ElastiCache, Memorystore, a Valkey you run); no VM, PVC,
    /// Service or Secret is created in the valkey namespace.
    External,
}

impl ValkeyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Managed => "managed",
            Self::External => "external",
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.mode != 'external' || has(self.external)").message("external (primaryAddress, and passwordSecret when the server needs AUTH) is required when mode is external"))]
pub struct ValkeySpec {
    /// `managed` (Valkey VMs run by the operator) or `external` (an existing Valkey).
    #[serde(default)]
    pub mode: ValkeyMode,
    /// Where an existing Valkey is (read only when `mode` is external; kept when switching back,
    /// so `mode` alone flips between the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalValkeySpec>,
    /// VMs: the first is the primary, the others replicate it (0 stops Valkey entirely).
    #[serde(default = "two")]
    #[schemars(range(min = 0, max = 9))]
    pub replicas: i32,
    /// Virtual CPU cores per VM.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 64))]
    pub cpu_cores: i32,
    /// Guest memory per VM (quantity).
    #[serde(default = "default_vm_memory")]
    pub memory: String,
    /// Where the VM boots from.
    #[serde(default)]
    pub disk: ValkeyDiskSpec,
    /// The persistent data disk (append-only file lives there).
    #[serde(default)]
    pub storage: ValkeyStorageSpec,
    /// The Secret holding the Valkey password, in the valkey namespace. The operator creates it
    /// with a random password if it does not exist.
    #[serde(default)]
    pub password_secret: PasswordSecretSpec,
    /// TTL the consumer puts on keys that grow with the number of products, in seconds.
    #[serde(default = "default_ttl")]
    #[schemars(range(min = 60))]
    pub key_ttl_seconds: i64,
}

impl Default for ValkeySpec {
    fn default() -> Self {
        Self {
            mode: ValkeyMode::Managed,
            external: None,
            replicas: 2,
            cpu_cores: 1,
            memory: default_vm_memory(),
            disk: ValkeyDiskSpec::default(),
            storage: ValkeyStorageSpec::default(),
            password_secret: PasswordSecretSpec::default(),
            key_ttl_seconds: default_ttl(),
        }
    }
}

fn two() -> i32 {
    2
}

/// An existing Valkey (or Redis-protocol) server the pipeline uses instead of its own VMs.
/// The programs connect over plain TCP (no TLS): see docs/operator.md, "Bring your own".
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalValkeySpec {
    /// `host:port` of the primary: the consumer writes there.
    #[schemars(length(min = 3, max = 261), regex(pattern = r"^[^\s,/]+:[0-9]{1,5}$"))]
    pub primary_address: String,
    /// `host:port` the Grafana datasource reads from (e.g. a reader endpoint); default: the primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 261), regex(pattern = r"^[^\s,/]+:[0-9]{1,5}$"))]
    pub read_address: Option<String>,
    /// The Secret holding the password (AUTH). Absent: the server takes no password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<SecretKeyRef>,
}

/// One key of a Secret somewhere in the cluster.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the Secret (the pipeline is cluster-scoped, so it must be said).
    #[schemars(length(min = 1, max = 63))]
    pub namespace: String,
    /// The key holding the value.
    #[serde(default = "default_password_key")]
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}
fn default_vm_memory() -> String {
    "1Gi".into()
}
fn default_ttl() -> i64 {
    7 * 24 * 3600
}

/// The VM boot disk.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum ValkeyDiskSource {
    /// containerDisk image pulled from Zot on every boot (ephemeral root; data lives on the
    /// persistent disk).
    #[default]
    ContainerDisk,
    /// A DataVolume imported once from Zot into a PVC (needs CDI): a persistent root disk.
    DataVolume,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ValkeyDiskSpec {
    #[serde(default)]
    pub source: ValkeyDiskSource,
    /// Root disk size when `source` is dataVolume.
    #[serde(default = "default_root_size")]
    pub size: String,
}

impl Default for ValkeyDiskSpec {
    fn default() -> Self {
        Self {
            source: ValkeyDiskSource::ContainerDisk,
            size: default_root_size(),
        }
    }
}

fn default_root_size() -> String {
    "10Gi".into()
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ValkeyStorageSpec {
    /// Size of each VM's data disk.
    #[serde(default = "default_valkey_size")]
    pub size: String,
    /// StorageClass of the data PVCs (empty: the cluster default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// What happens to the data PVCs when a VM is removed or the pipeline deleted.
    #[serde(default)]
    pub on_delete: DataRetention,
}

impl Default for ValkeyStorageSpec {
    fn default() -> Self {
        Self {
            size: default_valkey_size(),
            storage_class_name: None,
            on_delete: DataRetention::Delete,
        }
    }
}

fn default_valkey_size() -> String {
    "2Gi".into()
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DataRetention {
    /// The data PVCs go with their VM and with the pipeline.
    #[default]
    Delete,
    /// The data PVCs (and the valkey namespace holding them) stay after scale-down or deletion.
    Retain,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PasswordSecretSpec {
    #[serde(default = "default_password_secret")]
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[serde(default = "default_password_key")]
    #[schemars(length(min = 1))]
    pub key: String,
}

impl Default for PasswordSecretSpec {
    fn default() -> Self {
        Self {
            name: default_password_secret(),
            key: default_password_key(),
        }
    }
}

fn default_password_secret() -> String {
    "valkey-auth".into()
}
fn default_password_key() -> String {
    "password".into()
}

/// The four categories of the brief.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Electronica,
    Ropa,
    Hogar,
    Belleza,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Electronica => "Electronica",
            Self::Ropa => "Ropa",
            Self::Hogar => "Hogar",
            Self::Belleza => "Belleza",
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaSpec {
    /// Provision the datasource and dashboard.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Namespace of the Grafana Helm release (its sidecars watch it). Not created by the operator.
    #[serde(default = "default_grafana_ns")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub namespace: String,
    /// Label the datasource sidecar looks for (`sidecar.datasources.label`).
    #[serde(default = "default_ds_label")]
    pub datasource_label: String,
    /// Label the dashboard sidecar looks for (`sidecar.dashboards.label`).
    #[serde(default = "default_db_label")]
    pub dashboard_label: String,
    /// Value of both sidecar labels.
    #[serde(default = "default_label_value")]
    pub label_value: String,
    /// Student id shown in the dashboard; its last digit picks the featured category.
    #[serde(default = "default_carnet")]
    #[schemars(regex(pattern = r"^[0-9]{1,16}$"))]
    pub carnet: String,
    /// Featured category of the dashboard's special section (default: from the carnet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured_category: Option<Category>,
    /// Product whose price series is shown (default: the first of the featured category, e.g. BEL-001).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured_product: Option<String>,
}

impl Default for GrafanaSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            namespace: default_grafana_ns(),
            datasource_label: default_ds_label(),
            dashboard_label: default_db_label(),
            label_value: default_label_value(),
            carnet: default_carnet(),
            featured_category: None,
            featured_product: None,
        }
    }
}

fn default_grafana_ns() -> String {
    "grafana".into()
}
fn default_ds_label() -> String {
    "grafana_datasource".into()
}
fn default_db_label() -> String {
    "grafana_dashboard".into()
}
fn default_label_value() -> String {
    "1".into()
}
fn default_carnet() -> String {
    "202300539".into()
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VpaSpec {
    /// Create VerticalPodAutoscaler objects for grpc-client, the writers and the consumer.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub update_mode: VpaUpdateMode,
}

/// `Initial` and `Recreate` are refused while grpc-client or the consumer runs under its CPU HPA
/// (the VPA would rewrite the CPU requests the HPA's utilization is measured against).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VpaUpdateMode {
    /// Recommend only (safe next to an HPA on CPU).
    #[default]
    Off,
    Initial,
    Recreate,
}

impl VpaUpdateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "Off",
            Self::Initial => "Initial",
            Self::Recreate => "Recreate",
        }
    }
}
