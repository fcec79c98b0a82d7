//! The one error body of the contract (docs/contracts.md §1) and the statuses it travels with.
//!
//! Every non-2xx answer of `/api/v1/ventas` is built here, so the shape cannot drift between
//! the validation path and the downstream path.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// One broken field: which one and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub rule: String,
}

impl FieldError {
    pub fn new(field: &str, rule: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            rule: rule.into(),
        }
    }
}

/// `{"error": ..., "message": ..., "fields": [...]}` — always present, `fields` may be empty.
/// A 503/504 also carries `sale_id` and `in_doubt` (docs/contracts.md §1): `in_doubt: true`
/// means the sale may have been stored, so retry with `Idempotency-Key: <sale_id>` and it is
/// counted once; `false` means it certainly was not stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_doubt: Option<bool>,
}

/// Everything the ingest route can answer besides 200.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    MalformedJson(String),
    #[error("body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("the sale has {} invalid field{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    DownstreamUnavailable(String),
    #[error("{0}")]
    DownstreamTimeout(String),
    /// The downstream rejected the sale with a 4xx of the contract (400/413/415/422): its status
    /// and JSON body are handed to the caller unchanged, because the downstream is the one that
    /// knows why.
    #[error("downstream rejected the sale with {status}")]
    PassThrough { status: StatusCode, body: Vec<u8> },
}

impl ApiError {
    /// Every status `ApiError` can produce. The OpenAPI test checks the document names each one.
    pub const STATUSES: [u16; 6] = [400, 413, 415, 422, 503, 504];

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::DownstreamUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::DownstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::PassThrough { status, .. } => *status,
        }
    }

    /// The stable `error` code of the contract.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Validation(_) => "validation_failed",
            ApiError::DownstreamUnavailable(_) => "downstream_unavailable",
            ApiError::DownstreamTimeout(_) => "downstream_timeout",
            ApiError::PassThrough { status, .. } => code_for_status(*status),
        }
    }

    pub fn body(&self) -> ErrorBody {
        let fields = match self {
            ApiError::Validation(f) => f.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            error: self.code().to_owned(),
            message: self.to_string(),
            fields,
            sale_id: None,
            in_doubt: None,
        }
    }

    /// The answer to a sale that was (perhaps) sent downstream: a 503/504 body says whether the
    /// sale is in doubt and names the id to retry with; a passed-through 4xx stays as it is.
    pub fn into_sale_response(self, sale_id: &str, in_doubt: bool) -> Response {
        if !matches!(
            self,
            ApiError::DownstreamUnavailable(_) | ApiError::DownstreamTimeout(_)
        ) {
            return self.into_response();
        }
        let mut body = self.body();
        body.message = if in_doubt {
            format!(
                "{}; in doubt: the sale may have been stored, retry with Idempotency-Key {sale_id} and it is counted once",
                body.message
            )
        } else {
            format!("{}; not stored: retry (with Idempotency-Key {sale_id})", body.message)
        };
        body.sale_id = Some(sale_id.to_owned());
        body.in_doubt = Some(in_doubt);
        json_response(
            self.status(),
            serde_json::to_vec(&body).expect("ErrorBody always serializes"),
        )
    }
}

fn json_response(status: StatusCode, json: Vec<u8>) -> Response {
    let mut resp = (status, json).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // The contract: a 503 tells the caller when to try again.
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// The contract's code for a status; used when a downstream 4xx carries no usable body.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "malformed_json",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        504 => "downstream_timeout",
        _ => "downstream_unavailable",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let json = match &self {
            ApiError::PassThrough { body, .. } => body.clone(),
            other => serde_json::to_vec(&other.body()).expect("ErrorBody always serializes"),
        };
        json_response(status, json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_counts_fields() {
        let e = ApiError::Validation(vec![
            FieldError::new("precio", "must be greater than 0"),
            FieldError::new("categoria", "x"),
        ]);
        assert_eq!(e.to_string(), "the sale has 2 invalid fields");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b = e.body();
        assert_eq!(b.error, "validation_failed");
        assert_eq!(b.fields.len(), 2);
        let one = ApiError::Validation(vec![FieldError::new("precio", "x")]);
        assert_eq!(one.to_string(), "the sale has 1 invalid field");
    }

    #[test]
    fn every_variant_maps_into_the_documented_statuses() {
        let all = [
            ApiError::MalformedJson("x".into()),
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::UnsupportedMediaType,
            ApiError::Validation(vec![]),
            ApiError::DownstreamUnavailable("x".into()),
            ApiError::DownstreamTimeout("x".into()),
        ];
        for e in &all {
            // Exhaustive match: adding a variant fails to compile until it is listed above.
            match e {
                ApiError::MalformedJson(_)
                | ApiError::PayloadTooLarge { .. }
                | ApiError::UnsupportedMediaType
                | ApiError::Validation(_)
                | ApiError::DownstreamUnavailable(_)
                | ApiError::DownstreamTimeout(_)
                | ApiError::PassThrough { .. } => {}
            }
            assert!(ApiError::STATUSES.contains(&e.status().as_u16()), "{e:?}");
        }
        let codes: Vec<_> = all.iter().map(|e| e.status().as_u16()).collect();
        assert_eq!(codes, ApiError::STATUSES);
    }

    #[test]
    fn unavailable_carries_retry_after_and_json() {
        let r = ApiError::DownstreamUnavailable("down".into()).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let r = ApiError::DownstreamTimeout("slow".into()).into_response();
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
    }

    async fn body_of(r: Response) -> ErrorBody {
        use http_body_util::BodyExt;
        let b = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn downstream_failures_name_the_id_and_whether_in_doubt() {
        let r = ApiError::DownstreamTimeout("slow".into()).into_sale_response("k-1", true);
        assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);
        let b = body_of(r).await;
        assert_eq!((b.sale_id.as_deref(), b.in_doubt), (Some("k-1"), Some(true)));
        assert!(
            b.message.contains("in doubt") && b.message.contains("Idempotency-Key k-1"),
            "{}",
            b.message
        );
        let r = ApiError::DownstreamUnavailable("refused".into()).into_sale_response("k-2", false);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let b = body_of(r).await;
        assert_eq!((b.error.as_str(), b.in_doubt), ("downstream_unavailable", Some(false)));
        assert!(b.message.contains("not stored"), "{}", b.message);
        // a definite refusal keeps its shape: no id, no doubt
        let b = body_of(ApiError::Validation(vec![]).into_sale_response("k-3", true)).await;
        assert_eq!((b.sale_id, b.in_doubt), (None, None));
    }
}
