//! The client's idempotency key (docs/contracts.md §2): `Idempotency-Key` request header.
//!
//! A sale keeps one id for its whole life: the key when the client sent one, a fresh UUIDv7
//! otherwise. The id is returned on every answer (body `sale_id`, headers `Idempotency-Key` and
//! `X-Sale-Id`), travels downstream as the sale id, and the consumer counts each id once. A
//! client that got an in-doubt answer retries with the same key; the retry is then counted once
//! even if the first try reached Kafka too.

use axum::http::HeaderMap;

use crate::error::FieldError;

/// Request and response header (IETF draft "The Idempotency-Key HTTP Header Field").
pub const HEADER: &str = "idempotency-key";
/// The id on every answer and on the hop to grpc-client.
pub const SALE_ID_HEADER: &str = "x-sale-id";
pub const MAX_LEN: usize = 128;
pub const RULE: &str = "must be 1-128 characters: letters, digits, '-', '_', '.' or ':'";

/// The client's key, if it sent one; a key that breaks the rule is a field error naming the
/// header (it becomes part of a Valkey key and a Kafka header, so it is kept short and plain).
pub fn client_key(headers: &HeaderMap) -> Result<Option<String>, FieldError> {
    let Some(v) = headers.get(HEADER) else {
        return Ok(None);
    };
    let bad = || FieldError::new("Idempotency-Key", RULE);
    let s = v.to_str().map_err(|_| bad())?.trim();
    if valid(s) {
        Ok(Some(s.to_owned()))
    } else {
        Err(bad())
    }
}

pub fn valid(key: &str) -> bool {
    (1..=MAX_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The sale id: the client's key, or a new UUIDv7 (time-ordered).
pub fn sale_id(client_key: Option<String>) -> String {
    client_key.unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HEADER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn key_rules() {
        assert_eq!(client_key(&HeaderMap::new()), Ok(None));
        assert_eq!(client_key(&with(" order-17:a_b.c ")), Ok(Some("order-17:a_b.c".into())));
        let max = "k".repeat(MAX_LEN);
        assert_eq!(client_key(&with(&max)), Ok(Some(max.clone())));
        for bad in ["", "   ", "a b", "a/b", "ü", &format!("{max}k")] {
            let mut h = HeaderMap::new();
            h.insert(HEADER, HeaderValue::from_bytes(bad.as_bytes()).unwrap());
            let e = client_key(&h).unwrap_err();
            assert_eq!(e.field, "Idempotency-Key", "{bad:?}");
        }
    }

    #[test]
    fn sale_id_is_the_key_or_a_new_uuid() {
        assert_eq!(sale_id(Some("k1".into())), "k1");
        let a = sale_id(None);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        assert_ne!(a, sale_id(None));
    }
}
