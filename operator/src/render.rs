//! `render -f FILE`: what the operator would apply for a pipeline manifest, offline.

use serde::Deserialize;

use crate::build::{desired, ClusterInputs, Desired};
use crate::crd::BlackFridayPipeline;
use crate::validate::{validate, InvalidSpec};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("not a BlackFridayPipeline manifest: {0}")]
    Parse(String),
    #[error("no BlackFridayPipeline in the file")]
    Missing,
    #[error("invalid spec: {0}")]
    Invalid(#[from] InvalidSpec),
}

/// The first `BlackFridayPipeline` of a (multi-document) YAML text. Serde fills the same
/// defaults the API server would, so a minimal manifest renders the complete system.
pub fn parse_pipeline(text: &str) -> Result<BlackFridayPipeline, RenderError> {
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = serde_yaml::Value::deserialize(document)
            .map_err(|e| RenderError::Parse(e.to_string()))?;
        if value.get("kind").and_then(|k| k.as_str()) == Some("BlackFridayPipeline") {
            return serde_yaml::from_value(value).map_err(|e| RenderError::Parse(e.to_string()));
        }
    }
    Err(RenderError::Missing)
}

pub fn render_pipeline(pipeline: &BlackFridayPipeline) -> Result<Desired, RenderError> {
    let valid = validate(pipeline)?;
    Ok(desired(&valid, &ClusterInputs::default()))
}

pub fn render_file(path: &str) -> Result<String, RenderError> {
    let text = std::fs::read_to_string(path).map_err(|e| RenderError::Read(path.to_string(), e))?;
    Ok(render_pipeline(&parse_pipeline(&text)?)?.to_yaml())
}
