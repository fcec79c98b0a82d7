//! The one error type of the reconciler. `reason()` is a stable PascalCase word used as the
//! condition reason, the Event reason and the `reason` label of the failure metric.

use crate::kinds::ChildKey;
use crate::validate::InvalidSpec;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid spec: {0}")]
    InvalidSpec(#[from] InvalidSpec),
    #[error("applying {key}: {source}")]
    Apply {
        key: ChildKey,
        #[source]
        source: kube::Error,
    },
    #[error("pruning {key}: {source}")]
    Prune {
        key: ChildKey,
        #[source]
        source: kube::Error,
    },
    #[error("listing {kind} children: {source}")]
    List {
        kind: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("reading {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("discovering {api_version}: {source}")]
    Discovery {
        api_version: String,
        #[source]
        source: kube::Error,
    },
    #[error("updating the status: {0}")]
    Status(#[source] kube::Error),
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidSpec(_) => "InvalidSpec",
            Self::Apply { .. } => "ApplyFailed",
            Self::Prune { .. } => "PruneFailed",
            Self::List { .. } => "ListFailed",
            Self::Read { .. } => "ReadFailed",
            Self::Discovery { .. } => "DiscoveryFailed",
            Self::Status(_) => "StatusUpdateFailed",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
