//! Body → `Sale`, or the exact 400/422 the contract asks for.
//!
//! Each field is read from its literal JSON text (`RawValue`) rather than through serde's typed
//! path, for two reasons: every broken field must be reported (serde stops at the first), and a
//! number such as `1e999` must be a field error ("must be finite") rather than a failure of the
//! whole document.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::error::{ApiError, FieldError};
use crate::sale::{Categoria, Sale};

pub const MAX_PRODUCTO_ID_BYTES: usize = 64;
pub const MAX_PRECIO: f64 = 1_000_000.0;

pub const RULE_REQUIRED: &str = "is required";
pub const RULE_CATEGORIA: &str = "must be one of Electronica, Ropa, Hogar, Belleza or 1-4";
pub const RULE_CATEGORIA_TYPE: &str = "must be a string (Electronica, Ropa, Hogar, Belleza) or an integer 1-4";
pub const RULE_STRING: &str = "must be a string";
pub const RULE_PRODUCTO_EMPTY: &str = "must not be empty";
pub const RULE_PRODUCTO_LONG: &str = "must be at most 64 bytes";
pub const RULE_PRODUCTO_CHARS: &str = "may contain only letters, digits, '-', '_' and '.'";
pub const RULE_NUMBER: &str = "must be a number";
pub const RULE_FINITE: &str = "must be a finite number";
pub const RULE_POSITIVE: &str = "must be greater than 0";
pub const RULE_MAX_PRECIO: &str = "must be at most 1000000";
pub const RULE_INTEGER: &str = "must be an integer";
pub const RULE_CANTIDAD_RANGE: &str = "must be between 1 and 2147483647";

/// What a JSON literal is, read from its first byte (RawValue text is already trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Other,
}

fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'"') => Kind::String,
        Some(b'-' | b'0'..=b'9') => Kind::Number,
        _ => Kind::Other,
    }
}

fn is_integer_literal(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

/// Parses and validates one request body.
pub fn parse_sale(body: &[u8]) -> Result<Sale, ApiError> {
    let map: BTreeMap<String, &RawValue> = serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            // Valid JSON, wrong shape: only the top level can be wrong (values are raw).
            Category::Data => ApiError::MalformedJson("body must be a JSON object".into()),
            Category::Eof if body.iter().all(u8::is_ascii_whitespace) => {
                ApiError::MalformedJson("body is empty; expected a JSON object".into())
            }
            _ => ApiError::MalformedJson(format!("body is not valid JSON: {e}")),
        }
    })?;

    let mut errors = Vec::new();
    let categoria = field(&map, "categoria", &mut errors, categoria);
    let producto_id = field(&map, "producto_id", &mut errors, producto_id);
    let precio = field(&map, "precio", &mut errors, precio);
    let cantidad = field(&map, "cantidad_vendida", &mut errors, cantidad_vendida);

    match (categoria, producto_id, precio, cantidad) {
        (Some(categoria), Some(producto_id), Some(precio), Some(cantidad_vendida)) => Ok(Sale {
            categoria,
            producto_id,
            precio,
            cantidad_vendida,
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Looks a field up and runs its rule, recording a `FieldError` on failure.
fn field<T>(
    map: &BTreeMap<String, &RawValue>,
    name: &str,
    errors: &mut Vec<FieldError>,
    rule: fn(&RawValue) -> Result<T, &'static str>,
) -> Option<T> {
    let result = match map.get(name) {
        None => Err(RULE_REQUIRED),
        Some(raw) if raw.get() == "null" => Err(RULE_REQUIRED),
        Some(raw) => rule(raw),
    };
    result.map_err(|r| errors.push(FieldError::new(name, r))).ok()
}

fn categoria(raw: &RawValue) -> Result<Categoria, &'static str> {
    match kind(raw) {
        Kind::String => {
            let s: String = serde_json::from_str(raw.get()).map_err(|_| RULE_CATEGORIA)?;
            Categoria::from_name(&s).ok_or(RULE_CATEGORIA)
        }
        Kind::Number if is_integer_literal(raw.get()) => {
            // Too many digits for i64 is simply "not 1-4".
            let n: i64 = raw.get().parse().map_err(|_| RULE_CATEGORIA)?;
            Categoria::from_number(n).ok_or(RULE_CATEGORIA)
        }
        Kind::Number => Err(RULE_CATEGORIA),
        Kind::Other => Err(RULE_CATEGORIA_TYPE),
    }
}

fn producto_id(raw: &RawValue) -> Result<String, &'static str> {
    if kind(raw) != Kind::String {
        return Err(RULE_STRING);
    }
    let s: String = serde_json::from_str(raw.get()).map_err(|_| RULE_STRING)?;
    let t = s.trim();
    if t.is_empty() {
        Err(RULE_PRODUCTO_EMPTY)
    } else if t.len() > MAX_PRODUCTO_ID_BYTES {
        Err(RULE_PRODUCTO_LONG)
    } else if !t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        // ASCII only: the id becomes the Kafka key and a Valkey key suffix.
        Err(RULE_PRODUCTO_CHARS)
    } else {
        Ok(t.to_owned())
    }
}

fn precio(raw: &RawValue) -> Result<f64, &'static str> {
    if kind(raw) != Kind::Number {
        return Err(RULE_NUMBER);
    }
    // Rust's parser turns an overflowing literal into ±inf, which the finite check then names.
    let v: f64 = raw.get().parse().map_err(|_| RULE_NUMBER)?;
    if !v.is_finite() {
        Err(RULE_FINITE)
    } else if v <= 0.0 {
        Err(RULE_POSITIVE)
    } else if v > MAX_PRECIO {
        Err(RULE_MAX_PRECIO)
    } else {
        Ok(v)
    }
}

fn cantidad_vendida(raw: &RawValue) -> Result<i32, &'static str> {
    if kind(raw) != Kind::Number || !is_integer_literal(raw.get()) {
        return Err(RULE_INTEGER);
    }
    // i128 holds any literal that could be in range; longer ones are out of range anyway.
    let n: i128 = raw.get().parse().map_err(|_| RULE_CANTIDAD_RANGE)?;
    if (1..=i128::from(i32::MAX)).contains(&n) {
        Ok(n as i32)
    } else {
        Err(RULE_CANTIDAD_RANGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Sale {
        parse_sale(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e:?}"))
    }

    /// The field errors of a body, as (field, rule) pairs.
    fn errs(body: &str) -> Vec<(String, String)> {
        match parse_sale(body.as_bytes()) {
            Err(ApiError::Validation(f)) => f.into_iter().map(|f| (f.field, f.rule)).collect(),
            other => panic!("{body}: expected 422, got {other:?}"),
        }
    }

    fn one(body: &str, field: &str, rule: &str) {
        assert_eq!(errs(body), vec![(field.to_owned(), rule.to_owned())], "{body}");
    }

    /// The contract example with one field's literal JSON text replaced (kept as text so
    /// numbers such as 1e999 reach the validator unchanged).
    fn with(field: &str, value: &str) -> String {
        let parts: Vec<String> = [
            ("categoria", "\"Belleza\""),
            ("producto_id", "\"BEL-001\""),
            ("precio", "129.99"),
            ("cantidad_vendida", "3"),
        ]
        .iter()
        .map(|(k, v)| format!("\"{k}\":{}", if *k == field { value } else { v }))
        .collect();
        format!("{{{}}}", parts.join(","))
    }

    #[test]
    fn the_contract_example_is_valid() {
        let s = ok(r#"{"categoria": "Belleza", "producto_id": "BEL-001", "precio": 129.99, "cantidad_vendida": 3}"#);
        assert_eq!(
            s,
            Sale {
                categoria: Categoria::Belleza,
                producto_id: "BEL-001".into(),
                precio: 129.99,
                cantidad_vendida: 3
            }
        );
    }

    #[test]
    fn categoria_by_name_any_case_or_number() {
        assert_eq!(
            ok(&with("categoria", "\"electronica\"")).categoria,
            Categoria::Electronica
        );
        assert_eq!(ok(&with("categoria", "\"ROPA\"")).categoria, Categoria::Ropa);
        assert_eq!(ok(&with("categoria", "3")).categoria, Categoria::Hogar);
        assert_eq!(ok(&with("categoria", "4")).categoria, Categoria::Belleza);
    }

    #[test]
    fn categoria_unknown_zero_or_wrong_type() {
        for v in [
            "0",
            "5",
            "-1",
            "\"Juguetes\"",
            "\"\"",
            "\"CATEGORIA_PRODUCTO_UNSPECIFIED\"",
            "1.0",
            "99999999999999999999999",
        ] {
            one(&with("categoria", v), "categoria", RULE_CATEGORIA);
        }
        for v in ["true", "[1]", "{}"] {
            one(&with("categoria", v), "categoria", RULE_CATEGORIA_TYPE);
        }
    }

    #[test]
    fn producto_id_rules() {
        assert_eq!(ok(&with("producto_id", "\"  BEL-001 \"")).producto_id, "BEL-001");
        assert_eq!(
            ok(&with("producto_id", &format!("\"{}\"", "a".repeat(64))))
                .producto_id
                .len(),
            64
        );
        one(&with("producto_id", "\"\""), "producto_id", RULE_PRODUCTO_EMPTY);
        one(&with("producto_id", "\"   \""), "producto_id", RULE_PRODUCTO_EMPTY);
        one(
            &with("producto_id", &format!("\"{}\"", "a".repeat(65))),
            "producto_id",
            RULE_PRODUCTO_LONG,
        );
        one(&with("producto_id", "\"BEL 001\""), "producto_id", RULE_PRODUCTO_CHARS);
        one(&with("producto_id", "\"BEL/001\""), "producto_id", RULE_PRODUCTO_CHARS);
        one(&with("producto_id", "\"prodücto\""), "producto_id", RULE_PRODUCTO_CHARS);
        one(&with("producto_id", "42"), "producto_id", RULE_STRING);
    }

    #[test]
    fn precio_rules() {
        assert_eq!(ok(&with("precio", "1000000")).precio, 1_000_000.0);
        assert_eq!(ok(&with("precio", "0.01")).precio, 0.01);
        one(&with("precio", "0"), "precio", RULE_POSITIVE);
        one(&with("precio", "-0.0"), "precio", RULE_POSITIVE);
        one(&with("precio", "-5"), "precio", RULE_POSITIVE);
        one(&with("precio", "1000000.01"), "precio", RULE_MAX_PRECIO);
        one(&with("precio", "1e300"), "precio", RULE_MAX_PRECIO);
        one(&with("precio", "1e999"), "precio", RULE_FINITE);
        one(&with("precio", "-1e999"), "precio", RULE_FINITE);
        one(&with("precio", "\"NaN\""), "precio", RULE_NUMBER);
        one(&with("precio", "\"12.5\""), "precio", RULE_NUMBER);
    }

    #[test]
    fn cantidad_rules() {
        assert_eq!(ok(&with("cantidad_vendida", "1")).cantidad_vendida, 1);
        assert_eq!(ok(&with("cantidad_vendida", "2147483647")).cantidad_vendida, i32::MAX);
        one(&with("cantidad_vendida", "0"), "cantidad_vendida", RULE_CANTIDAD_RANGE);
        one(&with("cantidad_vendida", "-3"), "cantidad_vendida", RULE_CANTIDAD_RANGE);
        one(
            &with("cantidad_vendida", "2147483648"),
            "cantidad_vendida",
            RULE_CANTIDAD_RANGE,
        );
        one(
            &with("cantidad_vendida", "123456789012345678901234567890123456789012"),
            "cantidad_vendida",
            RULE_CANTIDAD_RANGE,
        );
        one(&with("cantidad_vendida", "2.5"), "cantidad_vendida", RULE_INTEGER);
        one(&with("cantidad_vendida", "3.0"), "cantidad_vendida", RULE_INTEGER);
        one(&with("cantidad_vendida", "1e3"), "cantidad_vendida", RULE_INTEGER);
        one(&with("cantidad_vendida", "\"3\""), "cantidad_vendida", RULE_INTEGER);
    }

    #[test]
    fn missing_and_null_fields_are_all_listed_in_order() {
        assert_eq!(
            errs("{}"),
            ["categoria", "producto_id", "precio", "cantidad_vendida"]
                .map(|f| (f.to_owned(), RULE_REQUIRED.to_owned()))
                .to_vec()
        );
        one(&with("precio", "null"), "precio", RULE_REQUIRED);
        let e = errs(r#"{"categoria": 0, "producto_id": "ok", "precio": -1, "cantidad_vendida": 1, "extra": [1,2]}"#);
        assert_eq!(
            e.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
            ["categoria", "precio"]
        );
    }

    #[test]
    fn unknown_fields_are_ignored() {
        ok(r#"{"categoria":1,"producto_id":"X","precio":1,"cantidad_vendida":1,"nota":{"a":[null]}}"#);
    }

    #[test]
    fn malformed_bodies_are_400() {
        for b in ["", "   ", "{", "not json", "{\"categoria\":1,}", "{} {}", "\u{feff}{}"] {
            assert!(
                matches!(parse_sale(b.as_bytes()), Err(ApiError::MalformedJson(_))),
                "{b:?}"
            );
        }
        for b in ["[]", "[1,2]", "\"sale\"", "42", "null", "true"] {
            match parse_sale(b.as_bytes()) {
                Err(ApiError::MalformedJson(m)) => assert_eq!(m, "body must be a JSON object", "{b}"),
                other => panic!("{b}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_sale(&[0xff, 0xfe, b'{', b'}']),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
