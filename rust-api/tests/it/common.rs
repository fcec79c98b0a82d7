//! Fakes of the two downstreams and a helper that starts rust-api on a loopback port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use rust_api::config::Config;
use rust_api::forward::pool::ResolveFn;
use rust_api::pb;
use rust_api::server::{self, AppState};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_stream::StreamExt as _;

pub const GOOD: &str = r#"{"categoria":"Belleza","producto_id":"BEL-001","precio":129.99,"cantidad_vendida":3}"#;

/// What a fake downstream does with the next request.
#[derive(Clone, Debug)]
pub enum Behavior {
    Accept,
    /// Answer after this long (longer than rust-api's timeout in the tests that use it).
    Slow(Duration),
    /// rest: answer this HTTP status and body. grpc: see `GrpcFail`.
    Http(u16, &'static str),
    GrpcFail(tonic::Code, &'static str),
}

/// What a fake saw.
#[derive(Default)]
pub struct Seen {
    pub calls: AtomicUsize,
    /// TCP connections the fake writer accepted (a rotating writer accepts a new one per rotation).
    pub connections: AtomicUsize,
    pub sale_ids: Mutex<Vec<String>>,
    pub bodies: Mutex<Vec<serde_json::Value>>,
}

pub struct Fake {
    pub addr: SocketAddr,
    pub behavior: Arc<Mutex<Behavior>>,
    pub seen: Arc<Seen>,
}

impl Fake {
    pub fn set(&self, b: Behavior) {
        *self.behavior.lock().unwrap() = b;
    }
    pub fn calls(&self) -> usize {
        self.seen.calls.load(Ordering::SeqCst)
    }
}

// ---------- fake grpc-client (HTTP) ----------

type HttpFakeState = (Arc<Mutex<Behavior>>, Arc<Seen>);

async fn fake_ventas(
    State((behavior, seen)): State<HttpFakeState>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    seen.calls.fetch_add(1, Ordering::SeqCst);
    let id = headers
        .get("x-sale-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    seen.sale_ids.lock().unwrap().push(id.clone());
    seen.bodies
        .lock()
        .unwrap()
        .push(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null));
    let b = behavior.lock().unwrap().clone();
    let json = [("content-type", "application/json")];
    match b {
        Behavior::Slow(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, json, format!(r#"{{"sale_id":"{id}","estado":"late"}}"#))
        }
        Behavior::Http(s, body) => (StatusCode::from_u16(s).unwrap(), json, body.to_owned()),
        _ => (
            StatusCode::OK,
            json,
            format!(r#"{{"sale_id":"{id}","estado":"accepted by fake-http"}}"#),
        ),
    }
}

pub async fn fake_http() -> Fake {
    fake_http_at("127.0.0.1:0".parse().unwrap()).await
}

/// The fake grpc-client on `addr` (port 0 = any).
pub async fn fake_http_at(addr: SocketAddr) -> Fake {
    let behavior = Arc::new(Mutex::new(Behavior::Accept));
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/api/v1/ventas", post(fake_ventas))
        .with_state((behavior.clone(), seen.clone()));
    let l = TcpListener::bind(addr).await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    Fake { addr, behavior, seen }
}

// ---------- fake writer (gRPC, generated from proto/blackfriday.proto) ----------

struct Writer {
    name: String,
    behavior: Arc<Mutex<Behavior>>,
    seen: Arc<Seen>,
}

#[tonic::async_trait]
impl pb::product_sale_service_server::ProductSaleService for Writer {
    async fn procesar_venta(
        &self,
        req: tonic::Request<pb::ProductSaleRequest>,
    ) -> Result<tonic::Response<pb::ProductSaleResponse>, tonic::Status> {
        self.seen.calls.fetch_add(1, Ordering::SeqCst);
        let id = req
            .metadata()
            .get("x-sale-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        self.seen.sale_ids.lock().unwrap().push(id);
        let r = req.into_inner();
        self.seen.bodies.lock().unwrap().push(serde_json::json!({
            "categoria": r.categoria, "producto_id": r.producto_id, "precio": r.precio, "cantidad_vendida": r.cantidad_vendida
        }));
        let b = self.behavior.lock().unwrap().clone();
        match b {
            Behavior::Slow(d) => {
                tokio::time::sleep(d).await;
            }
            Behavior::GrpcFail(code, msg) => return Err(tonic::Status::new(code, msg)),
            _ => {}
        }
        Ok(tonic::Response::new(pb::ProductSaleResponse {
            estado: format!("accepted by {} partition=0 offset=1", self.name),
        }))
    }
}

/// A fake writer on `ip:port` (port 0 = any).
pub async fn fake_writer(name: &str, bind: SocketAddr) -> Fake {
    let behavior = Arc::new(Mutex::new(Behavior::Accept));
    let seen = Arc::new(Seen::default());
    fake_writer_with(name, bind, behavior, seen, None).await
}

/// A fake writer; `max_age` makes it close each connection after that age plus the same again
/// as grace (tonic's max-connection-age: the connection is cut with calls in flight).
pub async fn fake_writer_with(
    name: &str,
    bind: SocketAddr,
    behavior: Arc<Mutex<Behavior>>,
    seen: Arc<Seen>,
    max_age: Option<Duration>,
) -> Fake {
    let svc = pb::product_sale_service_server::ProductSaleServiceServer::new(Writer {
        name: name.into(),
        behavior: behavior.clone(),
        seen: seen.clone(),
    });
    let l = TcpListener::bind(bind).await.unwrap();
    let addr = l.local_addr().unwrap();
    let mut builder = tonic::transport::Server::builder();
    if let Some(age) = max_age {
        builder = builder.max_connection_age(age).max_connection_age_grace(age);
    }
    let counted = seen.clone();
    tokio::spawn(async move {
        builder
            .add_service(svc)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(l).map(move |conn| {
                counted.connections.fetch_add(1, Ordering::Relaxed);
                conn
            }))
            .await
            .unwrap()
    });
    Fake { addr, behavior, seen }
}

/// A resolver answering from a table the test can change, like DNS of a headless Service
/// whose pods come and go.
pub fn table_resolver(table: Arc<Mutex<HashMap<String, Vec<SocketAddr>>>>) -> ResolveFn {
    Arc::new(move |t: String| {
        let r = table.lock().unwrap().get(&t).cloned();
        Box::pin(async move { r.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, t)) })
    })
}

/// Polls `cond` every 20 ms for up to 5 s (instead of fixed sleeps that break on a loaded box).
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..250 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A loopback port with nothing listening on it.
pub async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

// ---------- rust-api under test ----------

pub struct Api {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    pub stop: Option<oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    pub async fn post(&self, body: &str) -> (u16, HeaderMap, String) {
        post_to(&self.url("/api/v1/ventas"), body).await
    }
    /// grpc mode: the writer addresses currently in the pool.
    pub fn writer_addrs(&self) -> Vec<SocketAddr> {
        match &self.state.forwarder {
            rust_api::forward::Forwarder::Grpc(g) => g.pool().members().iter().map(|m| m.addr).collect(),
            _ => vec![],
        }
    }
}

pub fn config(args: &[&str]) -> Config {
    use clap::Parser;
    // Generous budgets: CI shares 2 cores with other suites; the slow-downstream tests pass a
    // short --downstream-timeout-ms of their own (the last occurrence of a flag wins).
    let mut v = vec![
        "rust-api",
        "--listen",
        "127.0.0.1:0",
        "--downstream-timeout-ms",
        "3000",
        "--connect-timeout-ms",
        "1000",
    ];
    v.extend_from_slice(args);
    Config::parse_from(v)
}

pub async fn start(cfg: Config, resolve: Option<ResolveFn>) -> Api {
    let state = match resolve {
        Some(r) => server::build_state_with(&cfg, r).await.unwrap(),
        None => server::build_state(&cfg).await.unwrap(),
    };
    let l = TcpListener::bind(cfg.listen).await.unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(server::serve(
        l,
        state.clone(),
        async {
            let _ = rx.await;
        },
        Duration::from_secs(5),
    ));
    Api {
        addr,
        state,
        stop: Some(tx),
        done,
    }
}

pub async fn start_rest(downstream: SocketAddr, extra: &[&str]) -> Api {
    let url = format!("http://{downstream}");
    let mut args = vec!["--mode", "rest", "--downstream-url", url.as_str()];
    args.extend_from_slice(extra);
    start(config(&args), None).await
}

pub async fn post_to(url: &str, body: &str) -> (u16, HeaderMap, String) {
    post_with_headers(url, body, &[]).await
}

/// POST a JSON body with extra request headers (e.g. `Idempotency-Key`).
pub async fn post_with_headers(url: &str, body: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, String) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.body(body.to_owned()).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Asserts the contract's error shape and returns it.
pub fn error_body(s: &str) -> rust_api::error::ErrorBody {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not the error body ({e}): {s}"))
}
