//! The HTTP surface: routes, the ingest handler, request metrics, and serving with a graceful
//! drain.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use tokio::net::TcpListener;

use crate::config::{Config, Mode};
use crate::error::ApiError;
use crate::forward::grpc::GrpcForwarder;
use crate::forward::pool::{dns_resolver, ResolveFn};
use crate::forward::rest::{RestForwarder, RestSettings};
use crate::forward::Forwarder;
use crate::idempotency;
use crate::metrics::Metrics;
use crate::validation::parse_sale;

pub const VENTAS_ROUTE: &str = "/api/v1/ventas";
/// docs/contracts.md §1: 16 KiB, 413 above it.
pub const BODY_LIMIT: usize = 16 * 1024;
/// Every status the ingest route can answer. The OpenAPI test checks each one is documented.
pub const VENTAS_STATUSES: [u16; 7] = [200, 400, 413, 415, 422, 503, 504];
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

pub struct AppState {
    pub forwarder: Forwarder,
    pub metrics: Metrics,
    /// False until the forwarder is built, and again once shutdown starts (so the Service stops
    /// sending new requests while in-flight ones drain).
    pub ready: AtomicBool,
    pub ready_check_downstream: bool,
}

#[derive(Serialize)]
struct SaleAccepted<'a> {
    sale_id: &'a str,
    estado: &'a str,
}

/// Builds the forwarder the config asks for. `resolve` is the DNS resolver in production; tests
/// pass one that maps names to loopback addresses.
pub async fn build_forwarder(
    config: &Config,
    resolve: ResolveFn,
    metrics_hook: Option<crate::forward::grpc::OnCall>,
) -> Result<Forwarder, String> {
    Ok(match config.mode {
        Mode::Rest => Forwarder::Rest(RestForwarder::new(RestSettings {
            base_url: config.downstream_url.clone(),
            timeout: config.downstream_timeout(),
            connect_timeout: config.connect_timeout(),
            pool_max_idle_per_host: config.pool_max_idle_per_host,
            client_per_request: config.client_per_request,
        })?),
        Mode::Grpc => {
            if config.writer_targets.iter().all(|t| t.trim().is_empty()) {
                return Err("grpc mode needs at least one --writer-targets entry".into());
            }
            let targets = config
                .writer_targets
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            Forwarder::Grpc(
                GrpcForwarder::start(
                    targets,
                    resolve,
                    config.downstream_timeout(),
                    config.connect_timeout(),
                    config.resolve_interval(),
                    metrics_hook,
                )
                .await,
            )
        }
        Mode::Null => Forwarder::Null,
    })
}

/// The whole application state for a config (the production path, DNS resolver included).
pub async fn build_state(config: &Config) -> Result<Arc<AppState>, String> {
    build_state_with(config, dns_resolver()).await
}

pub async fn build_state_with(config: &Config, resolve: ResolveFn) -> Result<Arc<AppState>, String> {
    // The per-writer counter lives in Metrics but the forwarder is built first; a shared
    // Family handle (an Arc inside) bridges the two.
    let metrics = Metrics::new();
    let writer_calls = metrics.writer_calls.clone();
    let hook: crate::forward::grpc::OnCall = Arc::new(move |addr| {
        writer_calls
            .get_or_create(&crate::metrics::WriterLabels { addr: addr.to_string() })
            .inc();
    });
    let forwarder = build_forwarder(config, resolve, Some(hook)).await?;
    Ok(Arc::new(AppState {
        forwarder,
        metrics,
        ready: AtomicBool::new(true),
        ready_check_downstream: config.ready_check_downstream,
    }))
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(VENTAS_ROUTE, post(create_venta))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.yaml", get(openapi))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        // A bug must cost one request a 500, not the worker thread.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

/// `POST /api/v1/ventas`: size and type checks, validation, sale id, forward, map.
async fn create_venta(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let (sale, key) = match (read_sale(&headers, body).await, idempotency::client_key(&headers)) {
        (Ok(sale), Ok(key)) => (sale, key),
        (Ok(_), Err(bad_key)) => return ApiError::Validation(vec![bad_key]).into_response(),
        (Err(ApiError::Validation(mut fields)), Err(bad_key)) => {
            fields.push(bad_key);
            return ApiError::Validation(fields).into_response();
        }
        (Err(e), _) => return e.into_response(),
    };
    let sale_id = idempotency::sale_id(key);
    let outcome = st.forwarder.forward(&sale, &sale_id).await;
    let mut resp = match outcome {
        Ok(acc) => {
            let body = serde_json::to_vec(&SaleAccepted {
                sale_id: &sale_id,
                estado: &acc.estado,
            })
            .expect("serializes");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                body,
            )
                .into_response()
        }
        Err(f) => {
            st.metrics.downstream_error(st.forwarder.mode(), f.kind);
            tracing::warn!(sale_id = %sale_id, kind = f.kind, in_doubt = f.in_doubt, error = %f.error, "sale not acknowledged downstream");
            f.error.into_sale_response(&sale_id, f.in_doubt)
        }
    };
    // The id is echoed on every forwarded attempt, failed ones too: a client retries an in-doubt
    // answer with it and the sale is counted once.
    let id = HeaderValue::from_str(&sale_id).expect("a validated key or a UUID is a valid header value");
    resp.headers_mut().insert(idempotency::SALE_ID_HEADER, id.clone());
    resp.headers_mut().insert(idempotency::HEADER, id);
    resp
}

/// Everything before forwarding: 413, 415, 400, 422.
async fn read_sale(headers: &HeaderMap, body: Body) -> Result<crate::sale::Sale, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit: BODY_LIMIT };
    // A declared length over the limit is refused before reading a byte.
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
    {
        if len > BODY_LIMIT as u64 {
            return Err(too_large);
        }
    }
    if !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    // Chunked bodies have no declared length: the limit is enforced while reading.
    let bytes = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large),
        Err(e) => return Err(ApiError::MalformedJson(format!("could not read the body: {e}"))),
    };
    parse_sale(&bytes)
}

/// `application/json`, any case, parameters such as `; charset=utf-8` allowed.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

async fn healthz() -> impl IntoResponse {
    json_status(StatusCode::OK, "ok", None)
}

async fn readyz(State(st): State<Arc<AppState>>) -> Response {
    if !st.ready.load(Ordering::Relaxed) {
        return json_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready",
            Some("starting or shutting down".into()),
        );
    }
    if st.ready_check_downstream {
        if let Err(e) = st.forwarder.reachable().await {
            return json_status(StatusCode::SERVICE_UNAVAILABLE, "not ready", Some(e));
        }
    }
    json_status(StatusCode::OK, "ready", None)
}

fn json_status(code: StatusCode, status: &str, reason: Option<String>) -> Response {
    let body = serde_json::json!({ "status": status, "reason": reason });
    (
        code,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        st.metrics.encode(),
    )
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml"))],
        OPENAPI_YAML,
    )
}

/// Counts and times every request by its route template (never the raw path: unbounded label
/// values would blow up the metric's cardinality).
async fn record_metrics(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    st.metrics
        .observe_request(&route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}

/// Serves until `shutdown` resolves, then stops accepting, marks itself not ready and waits for
/// in-flight requests, at most `drain` long.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let st = state.clone();
    let graceful = async move {
        shutdown.await;
        st.ready.store(false, Ordering::Relaxed);
        tracing::info!("shutdown requested; draining in-flight requests");
        let _ = tx.send(true);
    };
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(graceful);
    let deadline = async move {
        let _ = rx.wait_for(|v| *v).await;
        tokio::time::sleep(drain).await;
    };
    tokio::select! {
        r = server => r,
        _ = deadline => {
            tracing::warn!(?drain, "drain timed out; closing remaining connections");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM (Kubernetes) or SIGINT (a terminal).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
