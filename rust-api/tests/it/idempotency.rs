//! The idempotency contract (docs/contracts.md §1–2): the client's `Idempotency-Key` is the sale
//! id end to end; every answer names the id; a 503/504 says whether the sale is in doubt.

use std::time::Duration;

use crate::common::*;

async fn post_with_key(api: &Api, key: &str, body: &str) -> (u16, axum::http::HeaderMap, String) {
    post_with_headers(&api.url("/api/v1/ventas"), body, &[("idempotency-key", key)]).await
}

#[tokio::test]
async fn client_key_is_the_sale_id_downstream_and_in_every_answer() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &[]).await;
    let (s, h, b) = post_with_key(&api, "order-42:try", GOOD).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(json(&b)["sale_id"], "order-42:try");
    assert_eq!(h["idempotency-key"], "order-42:try");
    assert_eq!(h["x-sale-id"], "order-42:try");
    // a retry with the same key travels with the same id (the consumer counts it once)
    let (s, _, _) = post_with_key(&api, "order-42:try", GOOD).await;
    assert_eq!(s, 200);
    assert_eq!(
        down.seen.sale_ids.lock().unwrap().as_slice(),
        ["order-42:try", "order-42:try"]
    );
    // without a key: a new UUIDv7, returned in the body and both headers
    let (s, h, b) = api.post(GOOD).await;
    assert_eq!(s, 200);
    let id = json(&b)["sale_id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!(
        (h["idempotency-key"].to_str().unwrap(), h["x-sale-id"].to_str().unwrap()),
        (id.as_str(), id.as_str())
    );
}

#[tokio::test]
async fn a_bad_key_is_a_field_error_and_nothing_is_sent() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &[]).await;
    let (s, _, b) = post_with_key(&api, "has space", GOOD).await;
    assert_eq!(s, 422, "{b}");
    let e = error_body(&b);
    assert_eq!((e.fields.len(), e.fields[0].field.as_str()), (1, "Idempotency-Key"));
    // listed together with the body's own bad fields
    let (s, _, b) = post_with_key(
        &api,
        &"k".repeat(129),
        r#"{"categoria":"Ropa","producto_id":"R","precio":0,"cantidad_vendida":1}"#,
    )
    .await;
    assert_eq!(s, 422);
    let fields: Vec<String> = error_body(&b).fields.into_iter().map(|f| f.field).collect();
    assert_eq!(fields, ["precio", "Idempotency-Key"]);
    assert_eq!(down.calls(), 0);
}

#[tokio::test]
async fn timeout_and_5xx_after_sending_are_in_doubt() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &["--downstream-timeout-ms", "200"]).await;
    down.set(Behavior::Slow(Duration::from_millis(1500)));
    let (s, h, b) = post_with_key(&api, "k-slow", GOOD).await;
    assert_eq!(s, 504, "{b}");
    let v = json(&b);
    assert_eq!(
        (v["error"].as_str(), v["sale_id"].as_str(), v["in_doubt"].as_bool()),
        (Some("downstream_timeout"), Some("k-slow"), Some(true))
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("retry with Idempotency-Key k-slow"),
        "{b}"
    );
    assert_eq!(h["idempotency-key"], "k-slow");
    // the downstream stored it and then failed (e.g. connection reset after the write): in doubt
    down.set(Behavior::Http(
        503,
        r#"{"error":"downstream_unavailable","message":"x","fields":[]}"#,
    ));
    let (s, _, b) = post_with_key(&api, "k-5xx", GOOD).await;
    assert_eq!(s, 503);
    assert_eq!(json(&b)["in_doubt"], true);
}

#[tokio::test]
async fn refused_before_sending_is_not_stored() {
    let api = start_rest(closed_port().await, &[]).await;
    let (s, h, b) = post_with_key(&api, "k-down", GOOD).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(h["retry-after"], "1");
    let v = json(&b);
    assert_eq!(
        (v["sale_id"].as_str(), v["in_doubt"].as_bool()),
        (Some("k-down"), Some(false))
    );
    assert!(v["message"].as_str().unwrap().contains("not stored"), "{b}");
}
