//! `rest` mode: POST the sale as JSON to grpc-client over one pooled keep-alive client.

use std::time::Duration;

use axum::http::StatusCode;
use reqwest::header::{HeaderValue, CONTENT_TYPE};

use super::{Accepted, Failure};
use crate::error::{code_for_status, ApiError, ErrorBody};
use crate::sale::Sale;

pub use crate::idempotency::SALE_ID_HEADER;
pub const VENTAS_PATH: &str = "/api/v1/ventas";

/// Waits before each new try of a connect that failed (refused or timed out), about 3 s in all,
/// and never past the call's own budget (`timeout`). A rust-api pod can be Ready a moment before
/// the network lets it reach grpc-client: on the bench node a pod the HPA had just added turned
/// Ready 0.25 s before its first calls, which the NetworkPolicy engine (kube-router, resyncing in
/// 60–800 ms) still refused with 503 (docs/testbed-node.md); the first budget (0.75 s) was shorter
/// than the slowest resync seen. A grpc-client pod restarting closes its port for a moment too.
/// Past the last try the sale is a 503, not stored, as before.
const CONNECT_RETRY_DELAYS: [Duration; 6] = [
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
    Duration::from_millis(1600),
];

#[derive(Debug, Clone)]
pub struct RestSettings {
    /// Base URL of grpc-client, e.g. `http://grpc-client:8081`.
    pub base_url: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    /// The naive variant the benchmark compares against: a new client (so a new connection)
    /// for every request.
    pub client_per_request: bool,
}

pub struct RestForwarder {
    settings: RestSettings,
    /// Parsed once: parsing (with IDNA) on every request showed up at ~3 % of CPU in a profile.
    url: reqwest::Url,
    /// Holds the connection pool; cloning it only clones an `Arc`.
    client: reqwest::Client,
}

impl RestForwarder {
    pub fn new(settings: RestSettings) -> Result<Self, String> {
        let text = format!("{}{}", settings.base_url.trim_end_matches('/'), VENTAS_PATH);
        let url = reqwest::Url::parse(&text).map_err(|e| format!("downstream URL {text:?}: {e}"))?;
        if url.scheme() != "http" {
            // Built without a TLS stack: inside the cluster the hop is plain HTTP.
            return Err(format!("downstream URL {text:?}: only http:// is supported"));
        }
        let client = build_client(&settings).map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self { settings, url, client })
    }

    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    pub async fn forward(&self, sale: &Sale, sale_id: &str) -> Result<Accepted, Failure> {
        let body = serde_json::to_vec(sale).expect("a Sale always serializes");
        let fresh;
        let client = if self.settings.client_per_request {
            fresh = build_client(&self.settings).map_err(|e| Failure::not_sent("client", e.to_string()))?;
            &fresh
        } else {
            &self.client
        };
        let body = bytes::Bytes::from(body);
        let sale_id = HeaderValue::from_str(sale_id).expect("a UUID is a valid header value");
        let mut retries = CONNECT_RETRY_DELAYS.iter();
        let deadline = tokio::time::Instant::now() + self.settings.timeout;
        let resp = loop {
            let sent = client
                .post(self.url.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(SALE_ID_HEADER, sale_id.clone())
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(resp) => break resp,
                // A failed connect sent nothing, so trying again cannot store the sale twice.
                Err(e) if e.is_connect() => match retries.next() {
                    Some(delay) if tokio::time::Instant::now() + *delay < deadline => {
                        tokio::time::sleep(*delay).await
                    }
                    _ => return Err(map_transport_error(&e)),
                },
                Err(e) => return Err(map_transport_error(&e)),
            }
        };
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let bytes = resp.bytes().await.map_err(|e| map_transport_error(&e))?;
        map_response(status, &bytes)
    }

    /// A TCP connect to the downstream's host and port.
    pub async fn reachable(&self) -> Result<(), String> {
        let u = &self.url;
        let host = u.host_str().ok_or("downstream URL has no host")?.to_owned();
        let port = u.port_or_known_default().unwrap_or(80);
        let connect = tokio::net::TcpStream::connect((host.as_str(), port));
        match tokio::time::timeout(self.settings.connect_timeout, connect).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("{host}:{port}: {e}")),
            Err(_) => Err(format!("{host}:{port}: connect timed out")),
        }
    }
}

fn build_client(s: &RestSettings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(s.timeout)
        .connect_timeout(s.connect_timeout)
        .pool_max_idle_per_host(s.pool_max_idle_per_host)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .no_proxy()
        .build()
}

/// A request that never got a complete answer. A failed connect is "down" and nothing was sent
/// (503, not stored); a timeout after connecting is "slow" (504, in doubt); anything else
/// (reset, truncated body) is 503 in doubt: the request may have been processed.
pub fn map_transport_error(e: &reqwest::Error) -> Failure {
    if e.is_connect() {
        Failure::not_sent("connect", format!("downstream unreachable: {e}"))
    } else if e.is_timeout() {
        Failure::timeout("timeout", "downstream did not answer in time")
    } else {
        Failure::unavailable("io", format!("downstream connection failed: {e}"))
    }
}

/// A complete downstream answer → our answer.
/// - 2xx: accepted (grpc-client only answers 2xx after the writer's Kafka ack);
/// - 400/413/415/422: the downstream's own validation verdict, passed through;
/// - 408/504: the hop behind it was too slow → 504;
/// - anything else (5xx, 429, a misrouted 404, …): 503 with `Retry-After`.
pub fn map_response(status: StatusCode, body: &[u8]) -> Result<Accepted, Failure> {
    if status.is_success() {
        let estado = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("estado").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_default();
        return Ok(Accepted { estado });
    }
    match status.as_u16() {
        400 | 413 | 415 | 422 => {
            let body = if serde_json::from_slice::<ErrorBody>(body).is_ok() {
                body.to_vec()
            } else {
                // Not the contract's shape: wrap it so our callers always get the one shape.
                let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
                serde_json::to_vec(&ErrorBody {
                    error: code_for_status(status).to_owned(),
                    message: format!("downstream answered {status}: {text}"),
                    fields: vec![],
                    sale_id: None,
                    in_doubt: None,
                })
                .expect("ErrorBody always serializes")
            };
            Err(Failure::refused("status_4xx", ApiError::PassThrough { status, body }))
        }
        408 | 504 => Err(Failure::timeout(
            "status_timeout",
            format!("downstream answered {status}"),
        )),
        s if s >= 500 => Err(Failure::unavailable(
            "status_5xx",
            format!("downstream answered {status}"),
        )),
        _ => Err(Failure::unavailable(
            "status_other",
            format!("downstream answered {status}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_reads_estado() {
        let a = map_response(StatusCode::OK, br#"{"sale_id":"x","estado":"accepted by w1"}"#).unwrap();
        assert_eq!(a.estado, "accepted by w1");
        assert_eq!(map_response(StatusCode::CREATED, b"").unwrap().estado, "");
    }

    #[test]
    fn validation_statuses_pass_through_unchanged() {
        let body = br#"{"error":"validation_failed","message":"m","fields":[{"field":"precio","rule":"r"}]}"#;
        let f = map_response(StatusCode::UNPROCESSABLE_ENTITY, body).unwrap_err();
        assert_eq!(
            f.error,
            ApiError::PassThrough {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                body: body.to_vec()
            }
        );
        // A non-contract body is wrapped into the contract's shape, keeping the status.
        let f = map_response(StatusCode::BAD_REQUEST, b"nope").unwrap_err();
        assert_eq!(f.error.status(), StatusCode::BAD_REQUEST);
        let ApiError::PassThrough { body, .. } = f.error else {
            panic!()
        };
        let e: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(e.error, "malformed_json");
    }

    #[test]
    fn failures_are_never_success() {
        for s in [500u16, 502, 503, 429, 404, 409, 301] {
            let f = map_response(StatusCode::from_u16(s).unwrap(), b"{}").unwrap_err();
            assert_eq!(f.error.status(), StatusCode::SERVICE_UNAVAILABLE, "{s}");
        }
        for s in [504u16, 408] {
            let f = map_response(StatusCode::from_u16(s).unwrap(), b"{}").unwrap_err();
            assert_eq!(f.error.status(), StatusCode::GATEWAY_TIMEOUT, "{s}");
        }
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    fn settings(url: &str) -> RestSettings {
        RestSettings {
            base_url: url.into(),
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            pool_max_idle_per_host: 1,
            client_per_request: false,
        }
    }

    #[test]
    fn url_is_base_plus_route_and_plain_http_only() {
        let f = RestForwarder::new(settings("http://grpc-client:8081/")).unwrap();
        assert_eq!(f.url().as_str(), "http://grpc-client:8081/api/v1/ventas");
        assert!(RestForwarder::new(settings("https://grpc-client:8081")).is_err());
        assert!(RestForwarder::new(settings("not a url")).is_err());
    }
}
