//! `grpc` mode: `ProcesarVenta` straight to the writers, spread over every writer address.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use super::pool::{ResolveFn, WriterPool};
use super::{Accepted, Failure};
use crate::error::{ApiError, FieldError};
use crate::sale::Sale;

pub const SALE_ID_METADATA: &str = "x-sale-id";

/// Attempts of one sale when the earlier ones were never sent (see `forward`): with several
/// writers rotating their connections, the next address can be closing too.
const MAX_UNSENT_ATTEMPTS: u32 = 4;

/// Called with the writer address of every call (the per-writer metric).
pub type OnCall = Arc<dyn Fn(std::net::SocketAddr) + Send + Sync>;

pub struct GrpcForwarder {
    pool: Arc<WriterPool>,
    timeout: Duration,
    on_call: Option<OnCall>,
}

impl GrpcForwarder {
    /// Resolves the targets once (an empty result is not fatal: the writers may start later)
    /// and keeps re-resolving them every `resolve_interval`.
    pub async fn start(
        targets: Vec<String>,
        resolve: ResolveFn,
        timeout: Duration,
        connect_timeout: Duration,
        resolve_interval: Duration,
        on_call: Option<OnCall>,
    ) -> Self {
        let pool = WriterPool::new(targets, resolve, connect_timeout);
        pool.refresh().await;
        pool.spawn_refresher(resolve_interval);
        Self { pool, timeout, on_call }
    }

    pub fn pool(&self) -> &Arc<WriterPool> {
        &self.pool
    }

    pub async fn forward(&self, sale: &Sale, sale_id: &str) -> Result<Accepted, Failure> {
        let deadline = Instant::now() + self.timeout;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Some(member) = self.pool.pick() else {
                return Err(Failure::not_sent("no_endpoints", "no writer address resolved"));
            };
            if let Some(cb) = &self.on_call {
                cb(member.addr);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut req = tonic::Request::new(sale.to_proto());
            let id = MetadataValue::try_from(sale_id).expect("a UUID is valid metadata");
            req.metadata_mut().insert(SALE_ID_METADATA, id);
            // Sends grpc-timeout so the writer can give up too; our own timer below is the bound.
            req.set_timeout(remaining);
            let mut client = member.client;
            match tokio::time::timeout(remaining, client.procesar_venta(req)).await {
                Ok(Ok(resp)) => {
                    return Ok(Accepted {
                        estado: resp.into_inner().estado,
                    })
                }
                // A writer rotating its connection (grpc-go's max-connection-age GOAWAY) can
                // leave a call queued on the closing connection; hyper then hands it back unsent.
                // Nothing reached the writer, so a retry on the next address cannot duplicate the
                // sale; that address may be rotating too (seen with two real Go writers,
                // tests/e2e/test_grpc_forward_real_writers.py), hence a few attempts, not one. Any
                // other error may have been processed and is not retried.
                Ok(Err(status))
                    if attempts < MAX_UNSENT_ATTEMPTS && never_sent(&status) && Instant::now() < deadline =>
                {
                    tracing::debug!(addr = %member.addr, %status, attempts, "call was never sent; retrying");
                }
                Ok(Err(status)) => {
                    let mut f = map_status(&status, Instant::now() >= deadline);
                    if never_sent(&status) {
                        f.in_doubt = false;
                    }
                    return Err(f);
                }
                Err(_) => {
                    return Err(Failure::timeout(
                        "deadline_exceeded",
                        format!("writer {} did not answer in time", member.addr),
                    ))
                }
            }
        }
    }

    pub fn reachable(&self) -> Result<(), String> {
        if self.pool.members().is_empty() {
            Err("no writer address resolved".into())
        } else {
            Ok(())
        }
    }
}

/// A gRPC error → our answer. INVALID_ARGUMENT is the writer's validation verdict (422, the
/// field taken from its message); DEADLINE_EXCEEDED is 504; CANCELLED is 504 once our deadline
/// has passed (a server enforcing our `grpc-timeout` reports its expiry so — tonic does) and 503
/// before it (we never cancel a call ourselves, so it was cut off, e.g. by a closing connection).
/// Every other code, UNAVAILABLE included, means "not stored, try again": 503.
pub fn map_status(s: &Status, deadline_passed: bool) -> Failure {
    match s.code() {
        Code::InvalidArgument => Failure::refused(
            "invalid_argument",
            ApiError::Validation(vec![FieldError::new(field_in(s.message()), s.message())]),
        ),
        Code::DeadlineExceeded => Failure::timeout("deadline_exceeded", format!("writer: {}", s.message())),
        Code::Cancelled if deadline_passed => Failure::timeout("deadline_exceeded", format!("writer: {}", s.message())),
        Code::Unavailable => Failure::unavailable("unavailable", format!("writer unavailable: {}", s.message())),
        other => Failure::unavailable("grpc_error", format!("writer answered {other:?}: {}", s.message())),
    }
}

/// True when the writer never processed the call, so a retry is free of duplicates:
/// - hyper gave the request back without writing it (its "canceled" error: the connection closed
///   or was not ready);
/// - the writer's GOAWAY named a last stream id below this call's stream (h2 reports exactly those
///   streams as `GoAway` errors; RFC 9113 §6.8: they were not processed). Seen with grpc-go's
///   max-connection-age: `GoAway("max_age", NO_ERROR, Remote)`;
/// - the writer reset the stream with REFUSED_STREAM (RFC 9113 §8.7: not processed).
pub fn never_sent(s: &Status) -> bool {
    let mut next = s.source();
    while let Some(e) = next {
        if e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_canceled) {
            return true;
        }
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            if (h2.is_go_away() && h2.is_remote()) || h2.reason() == Some(h2::Reason::REFUSED_STREAM) {
                return true;
            }
        }
        next = e.source();
    }
    false
}

/// The contract says the writer's message names the field; fall back to the whole sale.
fn field_in(message: &str) -> &'static str {
    ["cantidad_vendida", "producto_id", "categoria", "precio"]
        .into_iter()
        .find(|f| message.contains(f))
        .unwrap_or("sale")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn status_mapping() {
        let f = map_status(&Status::invalid_argument("precio must be greater than 0"), false);
        assert_eq!(f.error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let ApiError::Validation(fields) = &f.error else {
            panic!()
        };
        assert_eq!(fields[0].field, "precio");
        assert_eq!(
            map_status(&Status::invalid_argument("bad"), false).error.body().fields[0].field,
            "sale"
        );
        assert_eq!(
            map_status(&Status::deadline_exceeded("x"), false).error.status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            map_status(&Status::cancelled("Timeout expired"), true).error.status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            map_status(&Status::cancelled("x"), false).error.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        // A plain status (no hyper "canceled" in its source chain) may have been processed.
        assert!(!never_sent(&Status::cancelled("operation was canceled")));
        // A stream the writer refused was not processed; one it reset otherwise may have been.
        let with_h2 = |reason| {
            let mut s = Status::internal("h2 protocol error");
            s.set_source(std::sync::Arc::new(h2::Error::from(reason)));
            s
        };
        assert!(never_sent(&with_h2(h2::Reason::REFUSED_STREAM)));
        assert!(!never_sent(&with_h2(h2::Reason::INTERNAL_ERROR)));
        assert!(!never_sent(&with_h2(h2::Reason::CANCEL)));
        for s in [
            Status::unavailable("kafka"),
            Status::internal("x"),
            Status::unknown("x"),
            Status::resource_exhausted("x"),
            Status::failed_precondition("x"),
        ] {
            assert_eq!(
                map_status(&s, false).error.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{s:?}"
            );
        }
    }
}
