//! The Ingress in front of rust-api (class nginx by default; optional TLS).

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use super::{meta, Child};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

pub fn build(p: &ValidPipeline) -> Vec<Child> {
    let spec = &p.spec.ingress;
    if !spec.enabled {
        return vec![];
    }
    let host = (!spec.host.is_empty()).then(|| spec.host.clone());
    let ingress = Ingress {
        metadata: meta(p, p.ns_ingest(), names::RUST_API, names::RUST_API),
        spec: Some(IngressSpec {
            ingress_class_name: Some(spec.class_name.clone()),
            tls: spec.tls.as_ref().map(|tls| {
                vec![IngressTLS {
                    hosts: host.clone().map(|h| vec![h]),
                    secret_name: Some(tls.secret_name.clone()),
                }]
            }),
            rules: Some(vec![IngressRule {
                host,
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(spec.path.clone()),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: names::RUST_API.into(),
                                port: Some(ServiceBackendPort {
                                    name: None,
                                    number: Some(names::RUST_API_PORT),
                                }),
                            }),
                            resource: None,
                        },
                    }],
                }),
            }]),
            default_backend: None,
        }),
        status: None,
    };
    vec![Child::new(ChildKind::Ingress, &ingress)]
}

#[cfg(test)]
mod tests {
    use crate::build::testing::*;

    #[test]
    fn ingress_tls_and_class() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.ingress.host = "ventas.example.com".into();
        spec.ingress.class_name = "nginx-public".into();
        spec.ingress.tls = Some(IngressTls {
            secret_name: "ventas-tls".into(),
        });
        let d = build(&spec, None);
        let ingress = &get(&d, ChildKind::Ingress, Some("ingest"), "rust-api")
            .object
            .data["spec"];
        assert_eq!(ingress["ingressClassName"], "nginx-public");
        assert_eq!(ingress["tls"][0]["hosts"][0], "ventas.example.com");
        assert_eq!(
            ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"],
            8080
        );
        spec.ingress.enabled = false;
        assert_eq!(build(&spec, None).of_kind(ChildKind::Ingress).count(), 0);
    }
}
