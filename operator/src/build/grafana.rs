//! Grafana provisioning through the Helm chart's sidecars: a datasource (the Redis plugin pointed
//! at the Valkey read Service, uid `valkey`) and the dashboard, in the release's namespace with the
//! sidecar labels. The datasource is a Secret, not a ConfigMap, because it carries the password
//! (the sidecars read both kinds).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::ByteString;
use serde_json::{json, Value};

use super::secrets::{has_valkey_password, valkey_password};
use super::{meta, Child, ClusterInputs};
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

/// The dashboard JSON (panels of seed/dashboard-wireframe.png), owned by the dashboard author.
pub const DASHBOARD_JSON: &str = include_str!("../../assets/grafana/dashboard.json");
pub const DATASOURCE_UID: &str = "valkey";

pub fn build(p: &ValidPipeline, inputs: &ClusterInputs) -> Vec<Child> {
    if !p.spec.grafana.enabled {
        return vec![];
    }
    vec![datasource(p, inputs), dashboard(p)]
}

fn sidecar_labels(p: &ValidPipeline, label: &str) -> BTreeMap<String, String> {
    let mut labels = names::component_labels(&p.name, "grafana");
    labels.insert(label.to_string(), p.spec.grafana.label_value.clone());
    labels
}

fn datasource(p: &ValidPipeline, inputs: &ClusterInputs) -> Child {
    let mut provisioning = json!({
        "apiVersion": 1,
        "datasources": [{
            "name": "Valkey",
            "type": "redis-datasource",
            "uid": DATASOURCE_UID,
            "access": "proxy",
            "url": format!("redis://{}", p.valkey_read_addr),
            // Not the default: Grafana refuses two defaults, and the release may provision its own.
            // The dashboard names this datasource by uid anyway.
            "isDefault": false,
            "editable": false,
            "jsonData": {"client": "standalone", "poolSize": 5, "timeout": 10}
        }]
    });
    if has_valkey_password(p, inputs) {
        provisioning["datasources"][0]["secureJsonData"] =
            json!({"password": valkey_password(inputs)});
    }
    let yaml = serde_yaml::to_string(&provisioning).expect("provisioning serializes");
    let mut metadata = meta(p, p.ns_grafana(), names::GRAFANA_DATASOURCE, "grafana");
    metadata.labels = Some(sidecar_labels(p, &p.spec.grafana.datasource_label));
    let secret = Secret {
        metadata,
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            "blackfriday-valkey.yaml".into(),
            ByteString(yaml.into_bytes()),
        )])),
        ..Default::default()
    };
    Child::new(ChildKind::Secret, &secret)
}

fn dashboard(p: &ValidPipeline) -> Child {
    let mut metadata = meta(p, p.ns_grafana(), names::GRAFANA_DASHBOARD, "grafana");
    metadata.labels = Some(sidecar_labels(p, &p.spec.grafana.dashboard_label));
    let config_map = ConfigMap {
        metadata,
        data: Some(BTreeMap::from([(
            "blackfriday.json".into(),
            dashboard_json(p),
        )])),
        ..Default::default()
    };
    Child::new(ChildKind::ConfigMap, &config_map)
}

/// The embedded dashboard with its constant variables set from the spec.
pub fn dashboard_json(p: &ValidPipeline) -> String {
    let mut dashboard: Value =
        serde_json::from_str(DASHBOARD_JSON).expect("assets/grafana/dashboard.json is JSON");
    set_constants(
        &mut dashboard,
        &[
            ("carnet", &p.spec.grafana.carnet),
            ("categoria", p.featured_category.as_str()),
            ("producto", &p.featured_product),
        ],
    );
    serde_json::to_string_pretty(&dashboard).expect("dashboard serializes")
}

/// Set (or add) constant template variables: `query` is what Grafana uses for a constant;
/// `current`/`options` keep the UI consistent with it.
fn set_constants(dashboard: &mut Value, values: &[(&str, &str)]) {
    if !dashboard["templating"]["list"].is_array() {
        dashboard["templating"] = json!({"list": []});
    }
    let list = dashboard["templating"]["list"]
        .as_array_mut()
        .expect("checked above");
    for (name, value) in values {
        let current = json!({"text": value, "value": value, "selected": true});
        let position = list.iter().position(|v| v["name"] == *name);
        let variable = match position {
            Some(i) => &mut list[i],
            None => {
                list.push(json!({"type": "constant", "name": name, "hide": 2}));
                list.last_mut().expect("just pushed")
            }
        };
        variable["query"] = json!(value);
        variable["current"] = current.clone();
        variable["options"] = json!([current]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::testing::{self, get};
    use crate::crd::{BlackFridayPipelineSpec, Category};
    use crate::validate::validate_spec;

    #[test]
    fn constants_follow_the_spec() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.grafana.carnet = "201900016".into();
        let p = validate_spec("x", None, None, &spec).unwrap();
        let dashboard: Value = serde_json::from_str(&dashboard_json(&p)).unwrap();
        let get = |name: &str| {
            dashboard["templating"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == name)
                .unwrap()["query"]
                .clone()
        };
        assert_eq!(get("carnet"), "201900016");
        assert_eq!(get("categoria"), Category::Hogar.as_str());
        assert_eq!(get("producto"), "HOG-001");
    }

    #[test]
    fn missing_variables_are_added() {
        let mut dashboard = json!({"title": "t"});
        set_constants(&mut dashboard, &[("carnet", "1")]);
        assert_eq!(dashboard["templating"]["list"][0]["query"], "1");
        assert_eq!(dashboard["templating"]["list"][0]["type"], "constant");
    }

    #[test]
    fn grafana_datasource_points_at_the_read_service_with_the_password() {
        let d = testing::build(&BlackFridayPipelineSpec::default(), None);
        let secret = &get(
            &d,
            ChildKind::Secret,
            Some("grafana"),
            names::GRAFANA_DATASOURCE,
        )
        .object;
        assert_eq!(
            secret.metadata.labels.as_ref().unwrap()["grafana_datasource"],
            "1"
        );
        let encoded = secret.data["data"]["blackfriday-valkey.yaml"]
            .as_str()
            .unwrap();
        use base64::Engine as _;
        let yaml = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap();
        assert!(yaml.contains("uid: valkey"), "{yaml}");
        assert!(
            yaml.contains("url: redis://valkey-read.valkey.svc.cluster.local:6379"),
            "{yaml}"
        );
        assert!(yaml.contains("password: s3cret"), "{yaml}");
        let dashboard = &get(
            &d,
            ChildKind::ConfigMap,
            Some("grafana"),
            names::GRAFANA_DASHBOARD,
        )
        .object;
        assert_eq!(
            dashboard.metadata.labels.as_ref().unwrap()["grafana_dashboard"],
            "1"
        );
    }
}
