//! Spec → a checked, typed pipeline (pure). Everything the builders need is resolved here once:
//! defaults that depend on other fields, image references, addresses, the featured category.
//!
//! The API server already enforces the schema and CEL rules; this catches what they cannot say
//! (quantities, image references, cross-tier names) and re-checks the CEL rules so a CRD installed
//! without them (or an old one) cannot drive the builders into nonsense.

mod security;

use std::fmt;

mod kafka_auth;

use crate::crd::{
    AutoscalingSpec, BlackFridayPipeline, BlackFridayPipelineSpec, Category, GrafanaSpec,
    IngressSpec, KafkaMode, KafkaSpec, ResourcesSpec, SecretKeyRef, ValkeyMode, ValkeySpec,
    WriterRoute,
};
use crate::names;

/// One problem in the spec, naming the field by its path (e.g. `spec.valkey.memory`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// All problems of one spec, in field order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSpec(pub Vec<FieldError>);

impl fmt::Display for InvalidSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl std::error::Error for InvalidSpec {}

/// How many pods a tier runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Scaling {
    /// A fixed `replicas` on the Deployment, no HPA.
    Fixed(i32),
    /// An HPA owns `replicas`; the Deployment is applied without it.
    Autoscaled(AutoscalingSpec),
}

/// Image references of every component, resolved from `registry` and `images`.
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    pub rust_api: String,
    pub grpc_client: String,
    pub grpc_server: String,
    pub consumer: String,
    pub valkey_disk: String,
}

/// The checked pipeline the builders work from.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPipeline {
    pub name: String,
    /// `None` offline (render): children then carry no ownerReference.
    pub uid: Option<String>,
    pub generation: Option<i64>,
    pub spec: BlackFridayPipelineSpec,
    pub images: Images,
    pub grpc_client_scaling: Scaling,
    pub consumer_scaling: Scaling,
    pub featured_category: Category,
    pub featured_product: String,
    /// `host:port[,host:port]` of Kafka for the writers and the consumer.
    pub kafka_bootstrap: String,
    /// `host:port` of the Valkey primary (writes).
    pub valkey_primary_addr: String,
    /// `host:port` of the Valkey read Service (Grafana).
    pub valkey_read_addr: String,
    /// `host:port` of every writer tier that has pods, in route order.
    pub writer_targets: Vec<String>,
    /// URL of grpc-client for rust-api in rest mode.
    pub grpc_client_url: String,
    /// The writer route with tiers scaled to zero taken out (a route to a tier without pods
    /// would fail every call sent there).
    pub effective_route: WriterRoute,
}

impl ValidPipeline {
    pub fn ns_ingest(&self) -> &str {
        &self.spec.namespaces.ingest
    }
    pub fn ns_kafka(&self) -> &str {
        &self.spec.namespaces.kafka
    }
    pub fn ns_valkey(&self) -> &str {
        &self.spec.namespaces.valkey
    }
    pub fn ns_grafana(&self) -> &str {
        &self.spec.grafana.namespace
    }
    /// Whether the operator runs Valkey (VMs, PVCs, Services, password) itself.
    pub fn valkey_managed(&self) -> bool {
        self.spec.valkey.mode == ValkeyMode::Managed
    }
    /// Whether the operator runs Kafka (Strimzi objects) itself.
    pub fn kafka_managed(&self) -> bool {
        self.spec.kafka.mode == KafkaMode::Strimzi
    }
    /// The Secret key the Valkey password is read from: the external server's Secret, or (managed)
    /// the operator's own Secret in the valkey namespace. `None`: an external server without AUTH.
    pub fn valkey_password_source(&self) -> Option<SecretKeyRef> {
        let own = &self.spec.valkey.password_secret;
        match self.spec.valkey.mode {
            ValkeyMode::Managed => Some(SecretKeyRef {
                name: own.name.clone(),
                namespace: self.ns_valkey().to_string(),
                key: own.key.clone(),
            }),
            ValkeyMode::External => self
                .spec
                .valkey
                .external
                .as_ref()
                .and_then(|e| e.password_secret.clone()),
        }
    }
    /// `host:port` of a writer tier's headless Service.
    pub fn writer_address(&self, writer: &str) -> String {
        format!(
            "{}:{}",
            self.service_host(writer, self.ns_ingest()),
            names::WRITER_PORT
        )
    }
    /// In-cluster DNS name of a Service.
    pub fn service_host(&self, service: &str, namespace: &str) -> String {
        format!("{service}.{namespace}.svc.{}", self.spec.cluster_domain)
    }
}

/// The featured category from the carnet's last digit (docs/contracts.md §6).
pub fn category_for_carnet(carnet: &str) -> Option<Category> {
    let last = carnet.chars().last()?.to_digit(10)?;
    Some(match last {
        0..=2 => Category::Electronica,
        3..=5 => Category::Ropa,
        6..=7 => Category::Hogar,
        _ => Category::Belleza,
    })
}

/// The first catalogue product of a category (`BEL-001` for Belleza).
pub fn default_product(category: Category) -> String {
    let prefix = match category {
        Category::Electronica => "ELE",
        Category::Ropa => "ROP",
        Category::Hogar => "HOG",
        Category::Belleza => "BEL",
    };
    format!("{prefix}-001")
}

/// Check a whole pipeline object.
pub fn validate(pipeline: &BlackFridayPipeline) -> Result<ValidPipeline, InvalidSpec> {
    let name = pipeline.metadata.name.clone().unwrap_or_default();
    validate_spec(
        &name,
        pipeline.metadata.uid.clone(),
        pipeline.metadata.generation,
        &pipeline.spec,
    )
}

/// Check a spec, tier by tier, collecting every problem; then derive the addresses of the
/// checked pipeline (`ValidPipeline::new`). Nothing is derived from a spec that failed a check.
pub fn validate_spec(
    name: &str,
    uid: Option<String>,
    generation: Option<i64>,
    spec: &BlackFridayPipelineSpec,
) -> Result<ValidPipeline, InvalidSpec> {
    let mut errors = Errors::default();
    check_identity(name, spec, &mut errors);
    let images = check_images(spec, &mut errors);
    check_namespaces(spec, &mut errors);
    check_ingress(&spec.ingress, &mut errors);
    let (grpc_client_scaling, consumer_scaling) = check_programs(spec, &mut errors);
    check_vpa(spec, &grpc_client_scaling, &consumer_scaling, &mut errors);
    check_kafka(&spec.kafka, &mut errors);
    check_valkey(&spec.valkey, &mut errors);
    let (featured_category, featured_product) = check_grafana(&spec.grafana, &mut errors);
    errors.0.extend(security::check(spec));
    errors.finish()?;
    Ok(ValidPipeline::new(
        Identity {
            name: name.to_string(),
            uid,
            generation,
        },
        spec,
        Checked {
            images,
            grpc_client_scaling,
            consumer_scaling,
            featured_category,
            featured_product,
        },
    ))
}

/// Who the pipeline is: its object name, uid and generation.
struct Identity {
    name: String,
    uid: Option<String>,
    generation: Option<i64>,
}

/// What the checks resolved besides plain spec fields.
struct Checked {
    images: Images,
    grpc_client_scaling: Scaling,
    consumer_scaling: Scaling,
    featured_category: Category,
    featured_product: String,
}

impl ValidPipeline {
    /// The checked pipeline with every address derived, each from the one helper that names it
    /// (`service_host`, `writer_address`), so builders never format an address themselves.
    fn new(id: Identity, spec: &BlackFridayPipelineSpec, checked: Checked) -> Self {
        let mut p = ValidPipeline {
            name: id.name,
            uid: id.uid,
            generation: id.generation,
            spec: spec.clone(),
            images: checked.images,
            grpc_client_scaling: checked.grpc_client_scaling,
            consumer_scaling: checked.consumer_scaling,
            featured_category: checked.featured_category,
            featured_product: checked.featured_product,
            kafka_bootstrap: String::new(),
            valkey_primary_addr: String::new(),
            valkey_read_addr: String::new(),
            writer_targets: Vec::new(),
            grpc_client_url: String::new(),
            effective_route: spec.grpc_client.writer_route,
        };
        p.kafka_bootstrap = p.derive_kafka_bootstrap();
        (p.valkey_primary_addr, p.valkey_read_addr) = p.derive_valkey_addresses();
        (p.writer_targets, p.effective_route) = p.derive_writer_route();
        p.grpc_client_url = format!(
            "http://{}:{}",
            p.service_host(names::GRPC_CLIENT, p.ns_ingest()),
            names::GRPC_CLIENT_PORT
        );
        p
    }

    fn derive_kafka_bootstrap(&self) -> String {
        let kafka = &self.spec.kafka;
        match (kafka.mode, &kafka.bootstrap_servers) {
            (KafkaMode::External, Some(servers)) => servers.clone(),
            _ => format!(
                "{}:{}",
                self.service_host(
                    &format!("{}-kafka-bootstrap", kafka.cluster_name),
                    self.ns_kafka()
                ),
                crate::build::kafka_strimzi_port(kafka.authentication)
            ),
        }
    }

    /// (primary, read) `host:port`.
    fn derive_valkey_addresses(&self) -> (String, String) {
        match (&self.spec.valkey.mode, &self.spec.valkey.external) {
            (ValkeyMode::External, Some(external)) => {
                let read = external
                    .read_address
                    .clone()
                    .unwrap_or_else(|| external.primary_address.clone());
                (external.primary_address.clone(), read)
            }
            _ => {
                let addr = |service: &str| {
                    format!(
                        "{}:{}",
                        self.service_host(service, self.ns_valkey()),
                        names::VALKEY_PORT
                    )
                };
                (
                    addr(names::VALKEY_PRIMARY_SERVICE),
                    addr(names::VALKEY_READ_SERVICE),
                )
            }
        }
    }

    /// The writer targets and the route with tiers scaled to zero taken out.
    fn derive_writer_route(&self) -> (Vec<String>, WriterRoute) {
        let spec = &self.spec;
        let route = spec.grpc_client.writer_route;
        let (one, two) = (
            spec.grpc_server1.replicas > 0,
            spec.grpc_server2.replicas > 0,
        );
        let mut targets = Vec::new();
        if matches!(route, WriterRoute::Both | WriterRoute::GrpcServer1) && one {
            targets.push(self.writer_address(names::GRPC_SERVER_1));
        }
        if matches!(route, WriterRoute::Both | WriterRoute::GrpcServer2) && two {
            targets.push(self.writer_address(names::GRPC_SERVER_2));
        }
        let effective = match (route, one, two) {
            (WriterRoute::Both, false, true) => WriterRoute::GrpcServer2,
            (WriterRoute::Both, true, false) => WriterRoute::GrpcServer1,
            (route, _, _) => route,
        };
        (targets, effective)
    }
}

fn check_identity(name: &str, spec: &BlackFridayPipelineSpec, errors: &mut Errors) {
    if name.is_empty() || name.len() > 63 || !is_dns_label(name) {
        errors.add(
            "metadata.name",
            "must be a DNS label (it becomes a label value)",
        );
    }
    if !is_dns_subdomain(&spec.cluster_domain) {
        errors.add(
            "spec.clusterDomain",
            "must be a DNS name such as cluster.local",
        );
    }
}

/// The registry fields, then every component's image reference (an override, or
/// `host/repository/component:tag`).
fn check_images(spec: &BlackFridayPipelineSpec, errors: &mut Errors) -> Images {
    let registry = &spec.registry;
    if registry.host.trim().is_empty() || registry.host.contains(['/', ' ']) {
        errors.add("spec.registry.host", "must be host[:port] without a path");
    }
    if registry.repository.trim().is_empty() || registry.repository.contains(' ') {
        errors.add(
            "spec.registry.repository",
            "must be a non-empty repository path",
        );
    }
    if registry.tag.is_empty() || !registry.tag.chars().all(is_tag_char) {
        errors.add(
            "spec.registry.tag",
            "must be a valid image tag ([A-Za-z0-9_.-])",
        );
    }
    let mut image = |component: &str, over: &Option<String>, field: &str| -> String {
        match over {
            Some(reference) => {
                if reference.trim().is_empty() || reference.contains(char::is_whitespace) {
                    errors.add(field, "must be a full image reference without spaces");
                }
                reference.clone()
            }
            None => format!(
                "{}/{}/{}:{}",
                registry.host, registry.repository, component, registry.tag
            ),
        }
    };
    let over = &spec.images;
    Images {
        rust_api: image(names::RUST_API, &over.rust_api, "spec.images.rustApi"),
        grpc_client: image(
            names::GRPC_CLIENT,
            &over.grpc_client,
            "spec.images.grpcClient",
        ),
        grpc_server: image(
            names::GRPC_SERVER_IMAGE,
            &over.grpc_server,
            "spec.images.grpcServer",
        ),
        consumer: image(names::CONSUMER, &over.consumer, "spec.images.consumer"),
        valkey_disk: image(
            names::VALKEY_DISK_IMAGE,
            &over.valkey_disk,
            "spec.images.valkeyDisk",
        ),
    }
}

/// Ours must differ from each other and from the Grafana release's, which we never own (owning
/// it would let the garbage collector delete Grafana with the pipeline).
fn check_namespaces(spec: &BlackFridayPipelineSpec, errors: &mut Errors) {
    let ns = &spec.namespaces;
    for (field, value) in [
        ("spec.namespaces.ingest", &ns.ingest),
        ("spec.namespaces.kafka", &ns.kafka),
        ("spec.namespaces.valkey", &ns.valkey),
        ("spec.grafana.namespace", &spec.grafana.namespace),
    ] {
        if !is_dns_label(value) {
            errors.add(field, "must be a DNS label");
        }
    }
    if ns.ingest == ns.kafka || ns.ingest == ns.valkey || ns.kafka == ns.valkey {
        errors.add(
            "spec.namespaces",
            "ingest, kafka and valkey namespaces must differ",
        );
    }
    if [&ns.ingest, &ns.kafka, &ns.valkey].contains(&&spec.grafana.namespace) {
        errors.add(
            "spec.grafana.namespace",
            "must differ from the tier namespaces (the operator owns those)",
        );
    }
}

fn check_ingress(ingress: &IngressSpec, errors: &mut Errors) {
    if !ingress.enabled {
        return;
    }
    if !ingress.path.starts_with('/') {
        errors.add("spec.ingress.path", "must start with /");
    }
    if !ingress.host.is_empty() && !is_dns_subdomain(&ingress.host) {
        errors.add("spec.ingress.host", "must be a DNS name");
    }
    if ingress.tls.is_some() && ingress.host.is_empty() {
        errors.add(
            "spec.ingress.tls",
            "needs spec.ingress.host (a certificate names a host)",
        );
    }
}

/// Scaling and resources of the five programs; returns (grpc-client, consumer) scaling.
fn check_programs(spec: &BlackFridayPipelineSpec, errors: &mut Errors) -> (Scaling, Scaling) {
    check_autoscaling(
        "spec.rustApi.autoscaling",
        &spec.rust_api.autoscaling,
        errors,
    );
    check_resources("spec.rustApi.resources", &spec.rust_api.resources, errors);
    let grpc_client_scaling = scaling(
        "spec.grpcClient",
        spec.grpc_client.replicas,
        &spec.grpc_client.autoscaling,
        AutoscalingSpec::new(1, 3),
        errors,
    );
    check_resources(
        "spec.grpcClient.resources",
        &spec.grpc_client.resources,
        errors,
    );
    for (field, writer) in [
        ("spec.grpcServer1", &spec.grpc_server1),
        ("spec.grpcServer2", &spec.grpc_server2),
    ] {
        if writer.replicas < 0 {
            errors.add(&format!("{field}.replicas"), "must be >= 0");
        }
        check_resources(&format!("{field}.resources"), &writer.resources, errors);
    }
    let consumer_scaling = scaling(
        "spec.consumer",
        spec.consumer.replicas,
        &spec.consumer.autoscaling,
        AutoscalingSpec::new(1, 2),
        errors,
    );
    check_resources("spec.consumer.resources", &spec.consumer.resources, errors);
    if spec.consumer.group.trim().is_empty() {
        errors.add("spec.consumer.group", "must not be empty");
    }
    (grpc_client_scaling, consumer_scaling)
}

/// A VPA that sets CPU requests next to an HPA that scales on CPU utilization (a share of those
/// requests) makes the two fight: each resize moves the HPA's measure. The Kubernetes
/// autoscaler's VPA README says not to combine them; refuse it rather than describe it.
fn check_vpa(
    spec: &BlackFridayPipelineSpec,
    grpc_client_scaling: &Scaling,
    consumer_scaling: &Scaling,
    errors: &mut Errors,
) {
    if !spec.vpa.enabled || spec.vpa.update_mode == crate::crd::VpaUpdateMode::Off {
        return;
    }
    let under_hpa: Vec<&str> = [
        ("spec.grpcClient", grpc_client_scaling),
        ("spec.consumer", consumer_scaling),
    ]
    .into_iter()
    .filter(|(_, scaling)| matches!(scaling, Scaling::Autoscaled(_)))
    .map(|(field, _)| field)
    .collect();
    if !under_hpa.is_empty() {
        errors.add(
            "spec.vpa.updateMode",
            &format!(
                "{} would rewrite the CPU requests that the CPU HPA of {} scales on; use Off (recommendations only) or fixed replicas there",
                spec.vpa.update_mode.as_str(),
                under_hpa.join(" and ")
            ),
        );
    }
}

fn check_kafka(kafka: &KafkaSpec, errors: &mut Errors) {
    match kafka.mode {
        KafkaMode::Strimzi => {
            if kafka.node_pool.replicas < 1 {
                errors.add("spec.kafka.nodePool.replicas", "must be >= 1");
            }
            if kafka.topic.replicas > kafka.node_pool.replicas {
                errors.add(
                    "spec.kafka.topic.replicas",
                    "must be <= spec.kafka.nodePool.replicas (one copy per broker)",
                );
            }
            if kafka.node_pool.storage.type_ == crate::crd::KafkaStorageType::PersistentClaim
                && !is_quantity(&kafka.node_pool.storage.size)
            {
                errors.add(
                    "spec.kafka.nodePool.storage.size",
                    "must be a quantity such as 10Gi",
                );
            }
            check_resources(
                "spec.kafka.nodePool.resources",
                &kafka.node_pool.resources,
                errors,
            );
        }
        KafkaMode::External => {
            let valid = kafka
                .bootstrap_servers
                .as_ref()
                .is_some_and(|servers| servers.split(',').all(|s| is_host_port(s.trim())));
            if !valid {
                errors.add(
                    "spec.kafka.bootstrapServers",
                    "must be host:port[,host:port] when mode is external",
                );
            }
        }
    }
    kafka_auth::check(kafka, errors);
    if kafka.topic.partitions < 1 {
        errors.add("spec.kafka.topic.partitions", "must be >= 1");
    }
    if kafka.topic.replicas < 1 {
        errors.add("spec.kafka.topic.replicas", "must be >= 1");
    }
}

fn check_valkey(valkey: &ValkeySpec, errors: &mut Errors) {
    if !(0..=9).contains(&valkey.replicas) {
        errors.add("spec.valkey.replicas", "must be between 0 and 9");
    }
    if valkey.cpu_cores < 1 {
        errors.add("spec.valkey.cpuCores", "must be >= 1");
    }
    if !is_quantity(&valkey.memory) {
        errors.add("spec.valkey.memory", "must be a quantity such as 1Gi");
    }
    if !is_quantity(&valkey.storage.size) {
        errors.add("spec.valkey.storage.size", "must be a quantity such as 2Gi");
    }
    if !is_quantity(&valkey.disk.size) {
        errors.add("spec.valkey.disk.size", "must be a quantity such as 10Gi");
    }
    if !is_dns_subdomain(&valkey.password_secret.name) {
        errors.add("spec.valkey.passwordSecret.name", "must be a Secret name");
    }
    if !is_secret_key(&valkey.password_secret.key) {
        errors.add(
            "spec.valkey.passwordSecret.key",
            "must be a Secret key ([-._a-zA-Z0-9]+)",
        );
    }
    if valkey.mode != ValkeyMode::External {
        return;
    }
    let Some(external) = &valkey.external else {
        errors.add(
            "spec.valkey.external",
            "is required when spec.valkey.mode is external (primaryAddress at least)",
        );
        return;
    };
    check_host_port(
        "spec.valkey.external.primaryAddress",
        &external.primary_address,
        errors,
    );
    if let Some(read) = &external.read_address {
        check_host_port("spec.valkey.external.readAddress", read, errors);
    }
    if let Some(secret) = &external.password_secret {
        check_secret_key_ref("spec.valkey.external.passwordSecret", secret, errors);
    }
}

/// Returns the featured (category, product): explicit, else from the carnet's last digit.
fn check_grafana(grafana: &GrafanaSpec, errors: &mut Errors) -> (Category, String) {
    let carnet_category = category_for_carnet(&grafana.carnet);
    if carnet_category.is_none() || !grafana.carnet.chars().all(|c| c.is_ascii_digit()) {
        errors.add(
            "spec.grafana.carnet",
            "must be digits (its last digit picks the featured category)",
        );
    }
    let featured_category = grafana
        .featured_category
        .or(carnet_category)
        .unwrap_or(Category::Belleza);
    let featured_product = grafana
        .featured_product
        .clone()
        .unwrap_or_else(|| default_product(featured_category));
    if featured_product.is_empty()
        || featured_product.len() > 64
        || !featured_product
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        errors.add(
            "spec.grafana.featuredProduct",
            "must be 1-64 letters, digits, '-', '_' or '.'",
        );
    }
    for (field, label) in [
        ("spec.grafana.datasourceLabel", &grafana.datasource_label),
        ("spec.grafana.dashboardLabel", &grafana.dashboard_label),
    ] {
        if !is_label_key(label) {
            errors.add(field, "must be a label key");
        }
    }
    if grafana.label_value.len() > 63
        || !grafana
            .label_value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        errors.add("spec.grafana.labelValue", "must be a label value");
    }
    (featured_category, featured_product)
}

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: &str, message: &str) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.to_string(),
        });
    }
    fn finish(self) -> Result<(), InvalidSpec> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(InvalidSpec(self.0))
        }
    }
}

fn scaling(
    field: &str,
    replicas: Option<i32>,
    autoscaling: &Option<AutoscalingSpec>,
    default: AutoscalingSpec,
    errors: &mut Errors,
) -> Scaling {
    match (replicas, autoscaling) {
        (Some(_), Some(_)) => {
            errors.add(field, "set either replicas or autoscaling, not both");
            Scaling::Fixed(0)
        }
        (Some(n), None) => {
            if n < 0 {
                errors.add(&format!("{field}.replicas"), "must be >= 0");
            }
            Scaling::Fixed(n)
        }
        (None, Some(hpa)) => {
            check_autoscaling(&format!("{field}.autoscaling"), hpa, errors);
            Scaling::Autoscaled(hpa.clone())
        }
        (None, None) => Scaling::Autoscaled(default),
    }
}

fn check_autoscaling(field: &str, hpa: &AutoscalingSpec, errors: &mut Errors) {
    if hpa.min_replicas < 1 {
        errors.add(&format!("{field}.minReplicas"), "must be >= 1");
    }
    if hpa.min_replicas > hpa.max_replicas {
        errors.add(&format!("{field}.minReplicas"), "must be <= maxReplicas");
    }
    if !(1..=100).contains(&hpa.target_cpu_utilization_percentage) {
        errors.add(
            &format!("{field}.targetCpuUtilizationPercentage"),
            "must be between 1 and 100",
        );
    }
    let Some(behavior) = &hpa.behavior else {
        return;
    };
    for (direction, rules) in [
        ("scaleUp", &behavior.scale_up),
        ("scaleDown", &behavior.scale_down),
    ] {
        let Some(rules) = rules else { continue };
        let at = format!("{field}.behavior.{direction}");
        // The API server's own bounds (k8s.io/kubernetes pkg/apis/autoscaling/validation,
        // validateScalingRules / validateScalingPolicy), so the operator reports them by field
        // instead of an apply failure on the HPA.
        if rules
            .stabilization_window_seconds
            .is_some_and(|s| !(0..=3600).contains(&s))
        {
            errors.add(
                &format!("{at}.stabilizationWindowSeconds"),
                "must be between 0 and 3600",
            );
        }
        if let Some(policies) = &rules.policies {
            if policies.is_empty() {
                errors.add(
                    &format!("{at}.policies"),
                    "must list at least one policy (or be left out for the defaults)",
                );
            }
            for (i, policy) in policies.iter().enumerate() {
                if policy.value < 1 {
                    errors.add(&format!("{at}.policies[{i}].value"), "must be >= 1");
                }
                if !(1..=1800).contains(&policy.period_seconds) {
                    errors.add(
                        &format!("{at}.policies[{i}].periodSeconds"),
                        "must be between 1 and 1800",
                    );
                }
            }
        }
    }
}

fn check_resources(field: &str, resources: &ResourcesSpec, errors: &mut Errors) {
    for (name, value) in [
        ("cpuRequest", &resources.cpu_request),
        ("memoryRequest", &resources.memory_request),
        ("cpuLimit", &resources.cpu_limit),
        ("memoryLimit", &resources.memory_limit),
    ] {
        if let Some(value) = value {
            if !is_quantity(value) {
                errors.add(
                    &format!("{field}.{name}"),
                    "must be a quantity such as 250m or 256Mi",
                );
            }
        }
    }
}

/// `host:port` with a non-empty host without spaces, commas or slashes and a port 1–65535.
/// IPv6 literals go in brackets (`[fd00::1]:6379`).
fn is_host_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && !host.contains(|c: char| c.is_whitespace() || c == ',' || c == '/')
            && port.parse::<u16>().is_ok_and(|p| p > 0)
    })
}

fn check_host_port(field: &str, value: &str, errors: &mut Errors) {
    if !is_host_port(value) {
        errors.add(field, "must be host:port (port 1-65535)");
    }
}

fn is_secret_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

fn check_secret_key_ref(field: &str, secret: &SecretKeyRef, errors: &mut Errors) {
    if !is_dns_subdomain(&secret.name) {
        errors.add(&format!("{field}.name"), "must be a Secret name");
    }
    if !is_dns_label(&secret.namespace) {
        errors.add(&format!("{field}.namespace"), "must be a namespace name");
    }
    if !is_secret_key(&secret.key) {
        errors.add(
            &format!("{field}.key"),
            "must be a Secret key ([-._a-zA-Z0-9]+)",
        );
    }
}

/// A Kubernetes resource quantity: a decimal number with an optional SI/binary suffix or exponent.
pub fn is_quantity(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    let number_ok = !number.is_empty() && number != "." && number.matches('.').count() <= 1;
    let suffix_ok = matches!(
        suffix,
        "" | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
            | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
    ) || (suffix.len() > 1
        && suffix.starts_with(['e', 'E'])
        && suffix[1..]
            .strip_prefix(['+', '-'])
            .unwrap_or(&suffix[1..])
            .chars()
            .all(|c| c.is_ascii_digit())
        && !suffix[1..]
            .strip_prefix(['+', '-'])
            .unwrap_or(&suffix[1..])
            .is_empty());
    number_ok && suffix_ok
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_label_key(s: &str) -> bool {
    let name = match s.rsplit_once('/') {
        Some((prefix, name)) => {
            if !is_dns_subdomain(prefix) {
                return false;
            }
            name
        }
        None => s,
    };
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(spec: &BlackFridayPipelineSpec) -> Result<ValidPipeline, InvalidSpec> {
        validate_spec("sample", None, Some(1), spec)
    }

    fn fields(err: InvalidSpec) -> Vec<String> {
        err.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_default_spec_is_valid_and_resolves_everything() {
        let v = valid(&BlackFridayPipelineSpec::default()).unwrap();
        assert_eq!(
            v.images.rust_api,
            "zot.blackfriday.internal:5000/blackfriday/rust-api:latest"
        );
        assert_eq!(
            v.images.grpc_server,
            "zot.blackfriday.internal:5000/blackfriday/grpc-server:latest"
        );
        assert_eq!(
            v.kafka_bootstrap,
            "blackfriday-kafka-bootstrap.kafka.svc.cluster.local:9093"
        );
        assert_eq!(
            v.valkey_primary_addr,
            "valkey-primary.valkey.svc.cluster.local:6379"
        );
        assert_eq!(
            v.grpc_client_scaling,
            Scaling::Autoscaled(AutoscalingSpec::new(1, 3))
        );
        assert_eq!(
            v.consumer_scaling,
            Scaling::Autoscaled(AutoscalingSpec::new(1, 2))
        );
        assert_eq!(v.writer_targets.len(), 2);
        assert_eq!(v.featured_category, Category::Belleza);
        assert_eq!(v.featured_product, "BEL-001");
    }

    #[test]
    fn carnet_last_digit_picks_the_category() {
        for (carnet, category) in [
            ("202300530", Category::Electronica),
            ("202300532", Category::Electronica),
            ("202300533", Category::Ropa),
            ("202300535", Category::Ropa),
            ("202300536", Category::Hogar),
            ("202300537", Category::Hogar),
            ("202300538", Category::Belleza),
            ("202300539", Category::Belleza),
        ] {
            assert_eq!(category_for_carnet(carnet), Some(category), "{carnet}");
        }
        assert_eq!(category_for_carnet(""), None);
    }

    #[test]
    fn an_explicit_category_beats_the_carnet() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.grafana.featured_category = Some(Category::Hogar);
        let v = valid(&spec).unwrap();
        assert_eq!(v.featured_category, Category::Hogar);
        assert_eq!(v.featured_product, "HOG-001");
    }

    #[test]
    fn image_overrides_replace_the_registry_reference() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.images.consumer = Some("other:5000/x/consumer:dev".into());
        assert_eq!(
            valid(&spec).unwrap().images.consumer,
            "other:5000/x/consumer:dev"
        );
    }

    #[test]
    fn min_above_max_names_the_field() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.rust_api.autoscaling.min_replicas = 5;
        assert_eq!(
            fields(valid(&spec).unwrap_err()),
            ["spec.rustApi.autoscaling.minReplicas"]
        );
    }

    #[test]
    fn hpa_behavior_bounds_name_their_fields() {
        use crate::crd::{
            ScalingBehaviorSpec, ScalingPolicySpec, ScalingPolicyType, ScalingRulesSpec,
        };
        let mut spec = BlackFridayPipelineSpec::default();
        spec.rust_api.autoscaling.behavior = Some(ScalingBehaviorSpec {
            scale_up: Some(ScalingRulesSpec {
                policies: Some(vec![]),
                ..Default::default()
            }),
            scale_down: Some(ScalingRulesSpec {
                stabilization_window_seconds: Some(3601),
                select_policy: None,
                policies: Some(vec![ScalingPolicySpec {
                    type_: ScalingPolicyType::Pods,
                    value: 0,
                    period_seconds: 1801,
                }]),
            }),
        });
        assert_eq!(
            fields(valid(&spec).unwrap_err()),
            [
                "spec.rustApi.autoscaling.behavior.scaleUp.policies",
                "spec.rustApi.autoscaling.behavior.scaleDown.stabilizationWindowSeconds",
                "spec.rustApi.autoscaling.behavior.scaleDown.policies[0].value",
                "spec.rustApi.autoscaling.behavior.scaleDown.policies[0].periodSeconds",
            ]
        );
        spec.rust_api.autoscaling.behavior = Some(ScalingBehaviorSpec {
            scale_up: None,
            scale_down: Some(ScalingRulesSpec {
                stabilization_window_seconds: Some(30),
                ..Default::default()
            }),
        });
        assert!(valid(&spec).is_ok());
    }

    #[test]
    fn a_vpa_that_sets_cpu_next_to_a_cpu_hpa_is_refused() {
        use crate::crd::VpaUpdateMode;
        let mut spec = BlackFridayPipelineSpec::default();
        spec.vpa.enabled = true;
        // Recommendations only: fine next to the HPAs.
        assert!(valid(&spec).is_ok());
        spec.vpa.update_mode = VpaUpdateMode::Recreate;
        let err = valid(&spec).unwrap_err();
        assert_eq!(fields(err.clone()), ["spec.vpa.updateMode"]);
        assert!(
            err.0[0]
                .message
                .contains("spec.grpcClient and spec.consumer"),
            "{}",
            err.0[0].message
        );
        // Only the consumer still has an HPA.
        spec.grpc_client.replicas = Some(2);
        let err = valid(&spec).unwrap_err();
        assert!(
            !err.0[0].message.contains("grpcClient"),
            "{}",
            err.0[0].message
        );
        // Neither does: the VPA may size the pods.
        spec.consumer.replicas = Some(2);
        spec.vpa.update_mode = VpaUpdateMode::Initial;
        assert!(valid(&spec).is_ok());
    }

    #[test]
    fn replicas_and_autoscaling_together_are_refused() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.consumer.replicas = Some(2);
        spec.consumer.autoscaling = Some(AutoscalingSpec::default());
        assert_eq!(fields(valid(&spec).unwrap_err()), ["spec.consumer"]);
    }

    #[test]
    fn fixed_replicas_mean_no_hpa() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.grpc_client.replicas = Some(2);
        assert_eq!(valid(&spec).unwrap().grpc_client_scaling, Scaling::Fixed(2));
    }

    #[test]
    fn bad_quantities_name_their_fields() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.memory = "lots".into();
        spec.consumer.resources.cpu_limit = Some("1 core".into());
        assert_eq!(
            fields(valid(&spec).unwrap_err()),
            ["spec.consumer.resources.cpuLimit", "spec.valkey.memory"]
        );
    }

    #[test]
    fn quantities() {
        for ok in ["1", "250m", "1.5", "1Gi", "512Mi", "2e3", "100k", ".5"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "lots", "1 Gi", "1GB", "Gi", "1.2.3", "e3"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn topic_replicas_cannot_exceed_brokers() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.topic.replicas = 3;
        assert_eq!(
            fields(valid(&spec).unwrap_err()),
            ["spec.kafka.topic.replicas"]
        );
    }

    #[test]
    fn external_kafka_needs_bootstrap_servers() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.mode = KafkaMode::External;
        assert_eq!(
            fields(valid(&spec).unwrap_err()),
            ["spec.kafka.bootstrapServers"]
        );
        spec.kafka.bootstrap_servers = Some("k1:9092,k2:9092".into());
        assert_eq!(valid(&spec).unwrap().kafka_bootstrap, "k1:9092,k2:9092");
    }

    fn external_valkey() -> crate::crd::ExternalValkeySpec {
        crate::crd::ExternalValkeySpec {
            primary_address: "primary.cache.example.com:6379".into(),
            read_address: Some("reader.cache.example.com:6379".into()),
            password_secret: Some(SecretKeyRef {
                name: "valkey-token".into(),
                namespace: "ops".into(),
                key: "password".into(),
            }),
        }
    }

    #[test]
    fn external_valkey_uses_the_given_addresses_and_secret() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.mode = ValkeyMode::External;
        spec.valkey.external = Some(external_valkey());
        let v = valid(&spec).unwrap();
        assert!(!v.valkey_managed());
        assert_eq!(v.valkey_primary_addr, "primary.cache.example.com:6379");
        assert_eq!(v.valkey_read_addr, "reader.cache.example.com:6379");
        assert_eq!(
            v.valkey_password_source().unwrap(),
            external_valkey().password_secret.unwrap()
        );
        // No read address: Grafana reads from the primary. No Secret: no AUTH.
        spec.valkey.external.as_mut().unwrap().read_address = None;
        spec.valkey.external.as_mut().unwrap().password_secret = None;
        let v = valid(&spec).unwrap();
        assert_eq!(v.valkey_read_addr, "primary.cache.example.com:6379");
        assert_eq!(v.valkey_password_source(), None);
    }

    #[test]
    fn managed_valkey_reads_its_own_secret_in_the_valkey_namespace() {
        let v = valid(&BlackFridayPipelineSpec::default()).unwrap();
        assert!(v.valkey_managed());
        let source = v.valkey_password_source().unwrap();
        assert_eq!(
            (
                source.namespace.as_str(),
                source.name.as_str(),
                source.key.as_str()
            ),
            ("valkey", "valkey-auth", "password")
        );
    }

    #[test]
    fn external_valkey_errors_name_their_fields() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.mode = ValkeyMode::External;
        assert_eq!(fields(valid(&spec).unwrap_err()), ["spec.valkey.external"]);
        let mut external = external_valkey();
        external.primary_address = "no-port".into();
        external.read_address = Some("reader:0".into());
        external.password_secret.as_mut().unwrap().namespace = "Not_A_Namespace".into();
        external.password_secret.as_mut().unwrap().key = "bad key".into();
        spec.valkey.external = Some(external);
        assert_eq!(
            fields(valid(&spec).unwrap_err()),
            [
                "spec.valkey.external.primaryAddress",
                "spec.valkey.external.readAddress",
                "spec.valkey.external.passwordSecret.namespace",
                "spec.valkey.external.passwordSecret.key",
            ]
        );
        // The block is ignored (kept for switching back) while the mode is managed.
        spec.valkey.mode = ValkeyMode::Managed;
        assert!(valid(&spec).is_ok());
    }

    #[test]
    fn host_ports() {
        for ok in [
            "a:1",
            "valkey.example.com:6379",
            "[fd00::1]:6379",
            "198.18.0.1:65535",
        ] {
            assert!(is_host_port(ok), "{ok}");
        }
        for bad in [
            "",
            "host",
            ":6379",
            "host:",
            "host:0",
            "host:65536",
            "a b:1",
            "a,b:1",
            "h/x:1",
        ] {
            assert!(!is_host_port(bad), "{bad}");
        }
    }

    #[test]
    fn grafana_namespace_must_not_be_a_tier_namespace() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.grafana.namespace = "ingest".into();
        assert_eq!(
            fields(valid(&spec).unwrap_err()),
            ["spec.grafana.namespace"]
        );
    }

    #[test]
    fn writer_route_and_zero_replicas_shape_the_targets() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.grpc_client.writer_route = WriterRoute::GrpcServer2;
        assert_eq!(
            valid(&spec).unwrap().writer_targets,
            ["grpc-server-2.ingest.svc.cluster.local:50051"]
        );
        spec.grpc_client.writer_route = WriterRoute::Both;
        spec.grpc_server1.replicas = 0;
        let v = valid(&spec).unwrap();
        assert_eq!(v.writer_targets.len(), 1);
        assert_eq!(v.effective_route, WriterRoute::GrpcServer2);
    }

    #[test]
    fn tls_needs_a_host() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.ingress.tls = Some(crate::crd::IngressTls {
            secret_name: "cert".into(),
        });
        assert_eq!(fields(valid(&spec).unwrap_err()), ["spec.ingress.tls"]);
    }
}
