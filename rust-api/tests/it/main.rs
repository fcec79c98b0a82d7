//! One integration-test binary (one link instead of six): HTTP-level behaviour against real
//! loopback servers — a fake grpc-client (axum) and fake writers (tonic, from the real proto).

mod common;
mod forward_grpc;
mod forward_rest;
mod http_inputs;
mod idempotency;
mod openapi;
mod ops;
mod props;
