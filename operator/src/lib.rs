//! blackfriday-operator: reconciles one cluster-scoped `BlackFridayPipeline` into the whole
//! Black Friday sales pipeline (see `docs/operator.md`).
//!
//! validate (pure) → build (pure) → apply (SSA) → prune → status, as in DESIGN §4.

pub mod admin;
pub mod build;
pub mod crd;
pub mod env;
pub mod error;
pub mod events;
pub mod kinds;
pub mod leader;
pub mod metrics;
pub mod names;
pub mod reachability;
pub mod reconcile;
pub mod render;
pub mod run;
pub mod scope;
pub mod validate;
pub mod yaml;
