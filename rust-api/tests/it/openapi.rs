//! The committed OpenAPI document parses, is the one served, and names every status the
//! ingest handler can answer.

use rust_api::error::ApiError;
use rust_api::server::{OPENAPI_YAML, VENTAS_STATUSES};
use serde_yaml::Value;

use crate::common::*;

fn doc() -> Value {
    serde_yaml::from_str(OPENAPI_YAML).expect("openapi.yaml parses")
}

#[test]
fn names_every_status_of_the_handler() {
    let d = doc();
    assert!(d["openapi"].as_str().unwrap().starts_with("3."));
    let responses = d["paths"]["/api/v1/ventas"]["post"]["responses"]
        .as_mapping()
        .expect("responses");
    let documented: Vec<u16> = responses.keys().map(|k| k.as_str().unwrap().parse().unwrap()).collect();
    for s in VENTAS_STATUSES {
        assert!(documented.contains(&s), "status {s} missing from openapi.yaml");
    }
    for s in ApiError::STATUSES {
        assert!(
            VENTAS_STATUSES.contains(&s),
            "ApiError can answer {s}, VENTAS_STATUSES lacks it"
        );
    }
    for s in documented {
        assert!(
            VENTAS_STATUSES.contains(&s),
            "openapi.yaml documents {s}, which the handler never answers"
        );
    }
}

#[test]
fn error_schema_lists_every_code() {
    let d = doc();
    let codes: Vec<&str> = d["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for e in [
        ApiError::MalformedJson(String::new()),
        ApiError::PayloadTooLarge { limit: 1 },
        ApiError::UnsupportedMediaType,
        ApiError::Validation(vec![]),
        ApiError::DownstreamUnavailable(String::new()),
        ApiError::DownstreamTimeout(String::new()),
    ] {
        assert!(codes.contains(&e.code()), "{} missing", e.code());
    }
    let required: Vec<&str> = d["components"]["schemas"]["Sale"]["required"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["categoria", "producto_id", "precio", "cantidad_vendida"]);
}

#[tokio::test]
async fn served_at_openapi_yaml() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &[]).await;
    let r = reqwest::get(api.url("/openapi.yaml")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), OPENAPI_YAML);
}
