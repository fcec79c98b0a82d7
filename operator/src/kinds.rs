//! Every kind of child the operator manages: how to address it in the API, whether it is
//! namespaced, which platform component provides it, and the order it is applied in.

use std::fmt;

use kube::core::{ApiResource, GroupVersionKind};

/// Platform add-ons whose CRDs we depend on but never install.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Strimzi,
    KubeVirt,
    Cdi,
    Vpa,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strimzi => "Strimzi",
            Self::KubeVirt => "KubeVirt",
            Self::Cdi => "CDI",
            Self::Vpa => "VerticalPodAutoscaler",
        }
    }
}

/// Kinds in apply order: containers (Namespace) first, things pods mount before the pods, and
/// the heavy foreign objects last. Pruning walks the same list backwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChildKind {
    Namespace,
    /// Right after the namespaces: the default deny is in place before any pod starts.
    NetworkPolicy,
    ServiceAccount,
    Secret,
    ConfigMap,
    PersistentVolumeClaim,
    Service,
    Deployment,
    HorizontalPodAutoscaler,
    Ingress,
    Kafka,
    KafkaNodePool,
    KafkaTopic,
    KafkaUser,
    VirtualMachine,
    VerticalPodAutoscaler,
}

impl ChildKind {
    pub const ALL: [ChildKind; 16] = [
        Self::Namespace,
        Self::NetworkPolicy,
        Self::ServiceAccount,
        Self::Secret,
        Self::ConfigMap,
        Self::PersistentVolumeClaim,
        Self::Service,
        Self::Deployment,
        Self::HorizontalPodAutoscaler,
        Self::Ingress,
        Self::Kafka,
        Self::KafkaNodePool,
        Self::KafkaTopic,
        Self::KafkaUser,
        Self::VirtualMachine,
        Self::VerticalPodAutoscaler,
    ];

    /// (group, version, kind, plural)
    fn gvkp(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Namespace => ("", "v1", "Namespace", "namespaces"),
            Self::NetworkPolicy => (
                "networking.k8s.io",
                "v1",
                "NetworkPolicy",
                "networkpolicies",
            ),
            Self::ServiceAccount => ("", "v1", "ServiceAccount", "serviceaccounts"),
            Self::Secret => ("", "v1", "Secret", "secrets"),
            Self::ConfigMap => ("", "v1", "ConfigMap", "configmaps"),
            Self::PersistentVolumeClaim => {
                ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims")
            }
            Self::Service => ("", "v1", "Service", "services"),
            Self::Deployment => ("apps", "v1", "Deployment", "deployments"),
            Self::HorizontalPodAutoscaler => (
                "autoscaling",
                "v2",
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
            ),
            Self::Ingress => ("networking.k8s.io", "v1", "Ingress", "ingresses"),
            Self::Kafka => ("kafka.strimzi.io", "v1", "Kafka", "kafkas"),
            Self::KafkaNodePool => ("kafka.strimzi.io", "v1", "KafkaNodePool", "kafkanodepools"),
            Self::KafkaTopic => ("kafka.strimzi.io", "v1", "KafkaTopic", "kafkatopics"),
            Self::KafkaUser => ("kafka.strimzi.io", "v1", "KafkaUser", "kafkausers"),
            Self::VirtualMachine => ("kubevirt.io", "v1", "VirtualMachine", "virtualmachines"),
            Self::VerticalPodAutoscaler => (
                "autoscaling.k8s.io",
                "v1",
                "VerticalPodAutoscaler",
                "verticalpodautoscalers",
            ),
        }
    }

    pub fn kind(self) -> &'static str {
        self.gvkp().2
    }

    pub fn api_resource(self) -> ApiResource {
        let (group, version, kind, plural) = self.gvkp();
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
    }

    pub fn namespaced(self) -> bool {
        self != Self::Namespace
    }

    /// The add-on whose CRD defines this kind (None: built into Kubernetes).
    pub fn provider(self) -> Option<Provider> {
        match self {
            Self::Kafka | Self::KafkaNodePool | Self::KafkaTopic | Self::KafkaUser => {
                Some(Provider::Strimzi)
            }
            Self::VirtualMachine => Some(Provider::KubeVirt),
            Self::VerticalPodAutoscaler => Some(Provider::Vpa),
            _ => None,
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.kind() == kind)
    }
}

/// How one child is named everywhere: the apply results the conditions read, the set prune keeps,
/// errors, Events and logs. Shown as `Kind/namespace/name` (`-` for a cluster-scoped child).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildKey {
    pub kind: ChildKind,
    /// `None` for cluster-scoped kinds (Namespace).
    pub namespace: Option<String>,
    pub name: String,
}

impl ChildKey {
    pub fn new(kind: ChildKind, namespace: Option<&str>, name: &str) -> Self {
        Self {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// The key of a namespaced child.
    pub fn namespaced(kind: ChildKind, namespace: &str, name: &str) -> Self {
        Self::new(kind, Some(namespace), name)
    }
}

impl fmt::Display for ChildKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let namespace = self.namespace.as_deref().unwrap_or("-");
        write!(f, "{}/{namespace}/{}", self.kind.kind(), self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_display_as_kind_namespace_name() {
        let service = ChildKey::namespaced(ChildKind::Service, "ingest", "rust-api");
        assert_eq!(service.to_string(), "Service/ingest/rust-api");
        let namespace = ChildKey::new(ChildKind::Namespace, None, "ingest");
        assert_eq!(namespace.to_string(), "Namespace/-/ingest");
        assert_ne!(
            ChildKey::new(ChildKind::Secret, None, "x"),
            ChildKey::namespaced(ChildKind::Secret, "-", "x"),
            "a cluster-scoped key never equals a namespaced one"
        );
    }
}
