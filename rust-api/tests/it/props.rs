//! Property test: whatever the body (and content type), with a healthy downstream rust-api
//! never panics and never answers 5xx; every non-200 carries the contract's error body; every
//! valid sale is accepted.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use proptest::prelude::*;
use rust_api::server::router;
use tower::ServiceExt;

use crate::common::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,80}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Literal JSON text for one field: near-miss values and raw literals JSON values can't make.
fn field_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string()),
        Just("1e999".to_owned()),
        Just("-1e999".to_owned()),
        Just("-0".to_owned()),
        Just("123456789012345678901234567890".to_owned()),
        (-10i64..10).prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "\"Belleza\"",
            "\"hogar\"",
            "\"ROPA\"",
            "\"Electronica\"",
            "\"\"",
            "\" \""
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,70}".prop_map(|s| serde_json::Value::String(s).to_string()),
        (-2.0e6f64..2.0e6).prop_map(|f| f.to_string()),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let sale_like = prop::collection::vec(
        (
            prop::sample::select(vec!["categoria", "producto_id", "precio", "cantidad_vendida", "x"]),
            field_literal(),
        ),
        0..6,
    )
    .prop_map(|kv| {
        let parts: Vec<String> = kv.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", parts.join(",")).into_bytes()
    });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        sale_like,
    ]
}

fn valid_sale() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            prop::sample::select(vec!["\"Electronica\"", "\"ropa\"", "\"HOGAR\"", "\"Belleza\""])
                .prop_map(str::to_owned),
            (1..=4i32).prop_map(|n| n.to_string())
        ],
        "[A-Za-z0-9._-]{1,64}",
        0.01f64..=1_000_000.0,
        1..=i32::MAX,
    )
        .prop_map(|(c, id, p, q)| {
            format!(r#"{{"categoria":{c},"producto_id":"{id}","precio":{p},"cantidad_vendida":{q}}}"#)
        })
}

struct Harness {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    _down: Fake,
}

fn harness() -> Harness {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, down) = rt.block_on(async {
        let down = fake_http().await; // healthy: accepts everything
        let cfg = config(&[
            "--downstream-url",
            &format!("http://{}", down.addr),
            "--downstream-timeout-ms",
            "5000",
        ]);
        (router(rust_api::server::build_state(&cfg).await.unwrap()), down)
    });
    Harness { rt, app, _down: down }
}

fn call(h: &Harness, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    h.rt.block_on(async {
        let req = Request::post("/api/v1/ventas")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let resp = h.app.clone().oneshot(req).await.unwrap();
        let s = resp.status().as_u16();
        (s, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_body_yields_a_5xx_or_a_panic(
        b in body(),
        ct in prop::sample::select(vec!["application/json", "application/json; charset=utf-8", "text/plain", "", "application/xml"]),
    ) {
        thread_local!(static H: Harness = harness());
        let (status, resp) = H.with(|h| call(h, ct, b.clone()));
        prop_assert!(status < 500, "status {} for {:?}", status, String::from_utf8_lossy(&b));
        if status == 200 {
            let v: serde_json::Value = serde_json::from_slice(&resp).unwrap();
            prop_assert!(v["sale_id"].is_string());
        } else {
            prop_assert!(matches!(status, 400 | 413 | 415 | 422), "{}", status);
            let e: rust_api::error::ErrorBody = serde_json::from_slice(&resp).unwrap();
            prop_assert!(!e.message.is_empty());
            prop_assert_eq!(e.fields.is_empty(), status != 422);
        }
    }

    #[test]
    fn every_valid_sale_is_accepted(s in valid_sale()) {
        thread_local!(static H: Harness = harness());
        let (status, resp) = H.with(|h| call(h, "application/json", s.clone().into_bytes()));
        prop_assert_eq!(status, 200, "{} -> {}", s, String::from_utf8_lossy(&resp));
    }
}
