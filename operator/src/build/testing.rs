//! What the builders' tests share: the desired set of a spec, lookups into it, and (re-exported
//! for a `use crate::build::testing::*`) the types those tests name.

pub use super::{desired, Child, ClusterInputs, Desired};
pub use crate::crd::*;
pub use crate::kinds::ChildKind;
pub use crate::names;
pub use crate::validate::validate_spec;

pub fn build(spec: &BlackFridayPipelineSpec, uid: Option<&str>) -> Desired {
    let p = validate_spec("bf", uid.map(str::to_string), Some(1), spec).unwrap();
    desired(
        &p,
        &ClusterInputs {
            valkey_password: Some("s3cret".into()),
            ..Default::default()
        },
    )
}

pub fn get<'a>(d: &'a Desired, kind: ChildKind, ns: Option<&str>, name: &str) -> &'a Child {
    d.find(kind, ns, name)
        .unwrap_or_else(|| panic!("{kind:?} {ns:?}/{name} missing"))
}

pub fn external_valkey_spec(password: bool) -> BlackFridayPipelineSpec {
    let mut spec = BlackFridayPipelineSpec::default();
    spec.valkey.mode = crate::crd::ValkeyMode::External;
    spec.valkey.external = Some(crate::crd::ExternalValkeySpec {
        primary_address: "primary.cache.example.com:6379".into(),
        read_address: Some("reader.cache.example.com:6379".into()),
        password_secret: password.then(|| crate::crd::SecretKeyRef {
            name: "valkey-token".into(),
            namespace: "ops".into(),
            key: "token".into(),
        }),
    });
    spec.registry.pull_secret = Some(SecretRef {
        name: "zot".into(),
        namespace: "ops".into(),
    });
    spec
}

pub fn datasource_yaml(d: &Desired) -> String {
    let secret = &get(
        d,
        ChildKind::Secret,
        Some("grafana"),
        names::GRAFANA_DATASOURCE,
    )
    .object;
    use base64::Engine as _;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(
                secret.data["data"]["blackfriday-valkey.yaml"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap()
}

pub fn consumer_env(d: &Desired, name: &str) -> Option<serde_json::Value> {
    get(d, ChildKind::Deployment, Some("ingest"), names::CONSUMER)
        .object
        .data["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .cloned()
}
