//! Every bad-input case of the issue, through the real router (tower `oneshot`), each answered
//! with its documented 4xx and the contract's error body. The downstream is a closed port: a
//! bad input must be refused before any forward is tried, so none of these may reach it.

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use rust_api::server::router;
use tower::ServiceExt;

use crate::common::*;

async fn send(req: Request<Body>) -> (u16, rust_api::error::ErrorBody) {
    let port = closed_port().await;
    let cfg = config(&["--downstream-url", &format!("http://{port}")]);
    let app = router(rust_api::server::build_state(&cfg).await.unwrap());
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, error_body(std::str::from_utf8(&bytes).unwrap()))
}

fn post(ct: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post("/api/v1/ventas");
    if let Some(ct) = ct {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    b.body(body.into()).unwrap()
}

async fn post_json(body: &str) -> (u16, rust_api::error::ErrorBody) {
    send(post(Some("application/json"), body.to_owned())).await
}

/// The fields named in a 422 and their rules.
async fn invalid(body: &str) -> Vec<(String, String)> {
    let (status, e) = post_json(body).await;
    assert_eq!(status, 422, "{body}: {e:?}");
    assert_eq!(e.error, "validation_failed");
    assert!(e.message.contains("invalid field"), "{}", e.message);
    e.fields.into_iter().map(|f| (f.field, f.rule)).collect()
}

fn sale(cat: &str, id: &str, precio: &str, cant: &str) -> String {
    format!(r#"{{"categoria":{cat},"producto_id":{id},"precio":{precio},"cantidad_vendida":{cant}}}"#)
}

async fn bad_field(body: String, field: &str) {
    let f = invalid(&body).await;
    assert_eq!(f.len(), 1, "{body}: {f:?}");
    assert_eq!(f[0].0, field, "{body}");
    assert!(!f[0].1.is_empty());
}

#[tokio::test]
async fn unknown_or_zero_category() {
    for c in ["0", "5", "\"Juguetes\"", "\"CATEGORIA_PRODUCTO_UNSPECIFIED\"", "true"] {
        bad_field(sale(c, "\"X-1\"", "1", "1"), "categoria").await;
    }
}

#[tokio::test]
async fn empty_oversized_or_bad_producto_id() {
    let long = format!("\"{}\"", "p".repeat(65));
    for id in ["\"\"", "\"   \"", long.as_str(), "\"a b\"", "7"] {
        bad_field(sale("1", id, "1", "1"), "producto_id").await;
    }
}

#[tokio::test]
async fn non_finite_zero_negative_or_absurd_precio() {
    for p in [
        "1e999",
        "-1e999",
        "\"NaN\"",
        "\"Infinity\"",
        "0",
        "-0.0",
        "-12.5",
        "1000000.5",
        "1e12",
    ] {
        bad_field(sale("1", "\"X\"", p, "1"), "precio").await;
    }
}

#[tokio::test]
async fn cantidad_out_of_int32_range_or_not_integer() {
    for c in ["0", "-1", "2147483648", "99999999999999999999999", "1.5", "\"2\""] {
        bad_field(sale("1", "\"X\"", "1", c), "cantidad_vendida").await;
    }
}

#[tokio::test]
async fn missing_fields_and_wrong_types_are_all_listed() {
    let f = invalid("{}").await;
    assert_eq!(
        f.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
        ["categoria", "producto_id", "precio", "cantidad_vendida"]
    );
    assert!(f.iter().all(|(_, r)| r == "is required"));
    let f = invalid(r#"{"categoria":[],"producto_id":{},"precio":"1","cantidad_vendida":null}"#).await;
    assert_eq!(f.len(), 4, "{f:?}");
}

#[tokio::test]
async fn malformed_json_is_400() {
    for b in ["", "{", "{\"categoria\":", "nope", "[]", "42", "{\"a\":1}x"] {
        let (status, e) = post_json(b).await;
        assert_eq!(status, 400, "{b:?}");
        assert_eq!(e.error, "malformed_json");
        assert!(e.fields.is_empty());
        assert!(!e.message.is_empty());
    }
}

#[tokio::test]
async fn wrong_or_missing_content_type_is_415() {
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
        None,
    ] {
        let (status, e) = send(post(ct, GOOD)).await;
        assert_eq!(status, 415, "{ct:?}");
        assert_eq!(e.error, "unsupported_media_type");
    }
}

#[tokio::test]
async fn oversized_body_is_413_declared_or_streamed() {
    // A valid JSON object padded past 16 KiB with an ignored field.
    let big = format!(
        r#"{{"pad":"{}","categoria":1,"producto_id":"X","precio":1,"cantidad_vendida":1}}"#,
        "x".repeat(17 * 1024)
    );
    let (status, e) = post_json(&big).await;
    assert_eq!(status, 413);
    assert_eq!(e.error, "payload_too_large");
    // Without Content-Length (chunked): the limit is enforced while reading.
    let stream = futures_stream(big.into_bytes());
    let (status, _) = send(post(Some("application/json"), stream)).await;
    assert_eq!(status, 413);
}

/// A body with no declared length, delivered in 1 KiB chunks.
fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = bytes
        .chunks(1024)
        .map(|c| Ok(axum::body::Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(tokio_stream::iter(chunks))
}

#[tokio::test]
async fn json_content_type_with_charset_is_accepted_past_validation() {
    // Passes 415 and validation, then meets the closed port: 503, which proves it got that far.
    let port = closed_port().await;
    let cfg = config(&["--downstream-url", &format!("http://{port}")]);
    let app = router(rust_api::server::build_state(&cfg).await.unwrap());
    let resp = app
        .oneshot(post(Some("Application/JSON; charset=utf-8"), GOOD))
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
}
