//! Operations: health, readiness, metrics, graceful drain.

use std::time::Duration;

use crate::common::*;

#[tokio::test]
async fn healthz_and_readyz() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &["--ready-check-downstream"]).await;
    assert_eq!(reqwest::get(api.url("/healthz")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(api.url("/readyz")).await.unwrap().status(), 200);

    // With the downstream check on, a closed downstream makes it not ready.
    let port = closed_port().await;
    let api = start_rest(port, &["--ready-check-downstream"]).await;
    assert_eq!(reqwest::get(api.url("/healthz")).await.unwrap().status(), 200);
    let r = reqwest::get(api.url("/readyz")).await.unwrap();
    assert_eq!(r.status(), 503);
    // Without it, readiness only means "configured and not shutting down".
    let api = start_rest(port, &[]).await;
    assert_eq!(reqwest::get(api.url("/readyz")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let down = fake_http().await;
    let api = start_rest(down.addr, &[]).await;
    api.post(GOOD).await;
    api.post("{}").await;
    api.post("{}").await;
    let m = reqwest::get(api.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        m.contains(r#"http_requests_total{route="/api/v1/ventas",status="200"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"http_requests_total{route="/api/v1/ventas",status="422"} 2"#),
        "{m}"
    );
    assert!(
        m.contains(r#"http_request_duration_seconds_count{route="/api/v1/ventas"} 3"#),
        "{m}"
    );
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests() {
    let down = fake_http().await;
    down.set(Behavior::Slow(Duration::from_millis(1500)));
    let mut api = start_rest(down.addr, &["--downstream-timeout-ms", "10000"]).await;
    let url = api.url("/api/v1/ventas");
    let in_flight = tokio::spawn(async move { post_to(&url, GOOD).await });
    eventually("the request is in flight", || down.calls() == 1).await;
    api.stop.take().unwrap().send(()).unwrap();
    let state = api.state.clone();
    eventually("not ready while draining", || {
        !state.ready.load(std::sync::atomic::Ordering::Relaxed)
    })
    .await;
    assert!(!in_flight.is_finished(), "still in flight when shutdown began");
    // The in-flight sale still gets its answer...
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    // ...and then the server stops.
    tokio::time::timeout(Duration::from_secs(3), api.done)
        .await
        .expect("server stopped")
        .unwrap()
        .unwrap();
}

/// `--mode null` (scripts/benchmarks/pipeline's null sink): valid sales are answered 200 without any
/// downstream (none is configured: the closed port would be a 503 in rest mode), bad ones keep
/// their 4xx, so the benchmark's API-alone figure runs the same validation.
#[tokio::test]
async fn null_mode_answers_without_a_downstream() {
    let port = closed_port().await;
    let url = format!("http://{port}");
    let api = start(config(&["--mode", "null", "--downstream-url", url.as_str()]), None).await;
    let (status, headers, body) = api.post(GOOD).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("null sink"), "{body}");
    assert!(headers.contains_key("x-sale-id"));
    let (status, _, body) = api.post(r#"{"categoria":"Belleza"}"#).await;
    assert_eq!(status, 422, "{body}");
    // the same request in rest mode reaches for the closed downstream: the null mode is what differs
    let rest = start_rest(port, &[]).await;
    assert_eq!(rest.post(GOOD).await.0, 503);
}
