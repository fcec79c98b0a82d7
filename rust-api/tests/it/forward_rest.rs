//! rest mode against a real HTTP server on loopback (the fake grpc-client).

use std::time::Duration;

use crate::common::*;

#[tokio::test]
async fn accepted_sale_is_forwarded_with_its_id() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &[]).await;
    let (status, headers, body) = api
        .post(r#"{"categoria":"belleza","producto_id":" BEL-001 ","precio":129.99,"cantidad_vendida":3,"extra":1}"#)
        .await;
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    let id = v["sale_id"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(v["estado"], "accepted by fake-http");
    assert_eq!(headers["x-sale-id"], id);
    // The downstream got the same id and the normalized sale.
    assert_eq!(down.seen.sale_ids.lock().unwrap().as_slice(), [id.to_owned()]);
    let sent = down.seen.bodies.lock().unwrap()[0].clone();
    assert_eq!(
        sent,
        serde_json::json!({"categoria":"Belleza","producto_id":"BEL-001","precio":129.99,"cantidad_vendida":3})
    );
}

#[tokio::test]
async fn ids_are_unique_and_connections_are_reused() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &[]).await;
    let mut ids = std::collections::HashSet::new();
    for _ in 0..20 {
        let (s, _, b) = api.post(GOOD).await;
        assert_eq!(s, 200);
        ids.insert(json(&b)["sale_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 20);
}

#[tokio::test]
async fn downstream_down_is_503_with_retry_after() {
    let port = closed_port().await;
    let api = start_rest(port, &[]).await;
    let (status, headers, body) = api.post(GOOD).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(error_body(&body).error, "downstream_unavailable");
    assert!(headers.contains_key("x-sale-id"));
    let m = reqwest::get(api.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        m.contains(r#"downstream_errors_total{mode="rest",kind="connect"} 1"#),
        "{m}"
    );
}

#[tokio::test]
async fn a_refused_connect_is_tried_again_until_the_downstream_listens() {
    // The downstream's port opens 120 ms after the sale arrives (a new pod the network does not
    // let through yet, a grpc-client restarting): the sale is accepted once, not refused.
    let port = closed_port().await;
    let api = start_rest(port, &[]).await;
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(120)).await;
        fake_http_at(port).await
    });
    let (status, _, body) = api.post(GOOD).await;
    assert_eq!(status, 200, "{body}");
    let down = late.await.unwrap();
    assert_eq!(down.seen.sale_ids.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_connect_refused_for_over_a_second_is_still_tried_again() {
    // kube-router was seen resyncing a new pod's policy in up to 800 ms, past the first retry
    // budget (0.75 s): a port that opens after 1.2 s still gets the sale, once.
    let port = closed_port().await;
    let api = start_rest(port, &[]).await;
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        fake_http_at(port).await
    });
    let (status, _, body) = api.post(GOOD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(late.await.unwrap().seen.sale_ids.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn connect_retries_stop_at_the_calls_budget() {
    // The same late port, but a 400 ms budget for the whole call: the tries stop within it, so the
    // sale is a 503 (not stored) although the port opens later; without the bound it would be 200.
    let port = closed_port().await;
    let api = start_rest(port, &["--downstream-timeout-ms", "400"]).await;
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        fake_http_at(port).await
    });
    let (status, _, body) = api.post(GOOD).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_body(&body).error, "downstream_unavailable");
    let down = late.await.unwrap();
    assert!(down.seen.sale_ids.lock().unwrap().is_empty());
}

#[tokio::test]
async fn downstream_slow_is_504() {
    let down = fake_http().await;
    down.set(Behavior::Slow(Duration::from_secs(3)));
    let api = start_rest(down.addr, &["--downstream-timeout-ms", "300"]).await;
    // The fake answers 200 after 3 s: a 504 proves rust-api's own 300 ms deadline ended the call
    // (waiting for the fake would have given 200), without timing the test itself.
    let (status, _, body) = api.post(GOOD).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(error_body(&body).error, "downstream_timeout");
}

#[tokio::test]
async fn downstream_erroring_is_503_never_2xx() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &[]).await;
    for (s, want) in [
        (500u16, 503u16),
        (502, 503),
        (503, 503),
        (404, 503),
        (429, 503),
        (504, 504),
    ] {
        down.set(Behavior::Http(s, r#"{"error":"boom"}"#));
        let (status, headers, body) = api.post(GOOD).await;
        assert_eq!(status, want, "downstream {s}: {body}");
        assert!(!(200..300).contains(&status));
        if want == 503 {
            assert_eq!(headers["retry-after"], "1");
        }
        error_body(&body);
    }
}

#[tokio::test]
async fn downstream_validation_verdict_passes_through() {
    let down = fake_http().await;
    let verdict = r#"{"error":"validation_failed","message":"the sale has 1 invalid field","fields":[{"field":"producto_id","rule":"unknown product"}]}"#;
    down.set(Behavior::Http(422, verdict));
    let api = start_rest(down.addr, &[]).await;
    let (status, _, body) = api.post(GOOD).await;
    assert_eq!(status, 422);
    assert_eq!(json(&body), json(verdict));
}

#[tokio::test]
async fn client_per_request_variant_still_works() {
    // The benchmark's naive variant must be functionally identical.
    let down = fake_http().await;
    let api = start_rest(down.addr, &["--client-per-request"]).await;
    for _ in 0..3 {
        assert_eq!(api.post(GOOD).await.0, 200);
    }
    assert_eq!(down.calls(), 3);
}
