//! Sending a validated sale to the next hop, and turning what came back into the contract's
//! answer. Two transports (`rest`, `grpc`) share one outcome type so the handler and the metrics
//! do not care which one ran.

pub mod grpc;
pub mod pool;
pub mod rest;

use crate::error::ApiError;
use crate::sale::Sale;

/// The downstream confirmed the sale is in Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub estado: String,
}

/// The downstream did not confirm the sale. `kind` is a short stable label for the
/// `downstream_errors_total` metric; `error` is what the caller gets. `in_doubt` is false only
/// when the sale certainly never left rust-api (no connection, no writer address, a call the
/// transport handed back unsent): then it is not stored. Every other failure may have happened
/// after the downstream stored the sale, so the caller is told to retry with the same key.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: &'static str,
    pub error: ApiError,
    pub in_doubt: bool,
}

impl Failure {
    /// 503 after the sale may have left: in doubt.
    pub fn unavailable(kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            error: ApiError::DownstreamUnavailable(detail.into()),
            in_doubt: true,
        }
    }
    /// 503 before anything left: not stored.
    pub fn not_sent(kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            in_doubt: false,
            ..Self::unavailable(kind, detail)
        }
    }
    /// 504: always in doubt.
    pub fn timeout(kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            error: ApiError::DownstreamTimeout(detail.into()),
            in_doubt: true,
        }
    }
    /// A definite verdict of the downstream (its 4xx): nothing stored, nothing in doubt.
    pub fn refused(kind: &'static str, error: ApiError) -> Self {
        Self {
            kind,
            error,
            in_doubt: false,
        }
    }
}

/// One of the two transports, chosen at start-up from `--mode`.
pub enum Forwarder {
    Rest(rest::RestForwarder),
    Grpc(grpc::GrpcForwarder),
    /// `--mode null` (benchmark only): every valid sale is answered as accepted and dropped, so
    /// a benchmark can measure the API alone against the same load (the null sink).
    Null,
}

impl Forwarder {
    pub fn mode(&self) -> &'static str {
        match self {
            Forwarder::Rest(_) => "rest",
            Forwarder::Grpc(_) => "grpc",
            Forwarder::Null => "null",
        }
    }

    pub async fn forward(&self, sale: &Sale, sale_id: &str) -> Result<Accepted, Failure> {
        match self {
            Forwarder::Rest(f) => f.forward(sale, sale_id).await,
            Forwarder::Grpc(f) => f.forward(sale, sale_id).await,
            Forwarder::Null => Ok(Accepted {
                estado: "dropped by the null sink".to_owned(),
            }),
        }
    }

    /// For /readyz with `--ready-check-downstream`: can the next hop be reached at all?
    pub async fn reachable(&self) -> Result<(), String> {
        match self {
            Forwarder::Rest(f) => f.reachable().await,
            Forwarder::Grpc(f) => f.reachable(),
            Forwarder::Null => Ok(()),
        }
    }
}
