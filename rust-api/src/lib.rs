//! rust-api: the ingest REST API of the Black Friday pipeline (docs/contracts.md).

pub mod config;
pub mod error;
pub mod forward;
pub mod idempotency;
pub mod metrics;
pub mod sale;
pub mod server;
pub mod validation;

/// Generated at build time from `proto/blackfriday.proto`.
pub mod pb {
    tonic::include_proto!("blackfriday");
}
