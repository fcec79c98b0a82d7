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
    //! The cases are the contract's (contract/sale.json, shared with go-services and the Go
    //! forwarder); what only this parser can be asked (bytes that are not UTF-8) stays here.
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize)]
    struct Contract {
        rules: BTreeMap<String, String>,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        name: String,
        body: String,
        status: u16,
        #[serde(default)]
        fields: Vec<CaseField>,
        /// The accepted sale as it serializes (categoria by name).
        sale: Option<serde_json::Value>,
        message: Option<String>,
    }

    #[derive(Deserialize)]
    struct CaseField {
        field: String,
        rule: String,
    }

    fn contract() -> Contract {
        serde_json::from_str(include_str!("../../contract/sale.json")).expect("contract/sale.json")
    }

    /// Every rule text of the code is the contract's, and every contract rule has its constant.
    #[test]
    fn rule_texts_are_the_contracts() {
        let code = BTreeMap::from([
            ("required", RULE_REQUIRED),
            ("categoria", RULE_CATEGORIA),
            ("categoria_type", RULE_CATEGORIA_TYPE),
            ("string", RULE_STRING),
            ("producto_empty", RULE_PRODUCTO_EMPTY),
            ("producto_long", RULE_PRODUCTO_LONG),
            ("producto_chars", RULE_PRODUCTO_CHARS),
            ("number", RULE_NUMBER),
            ("finite", RULE_FINITE),
            ("positive", RULE_POSITIVE),
            ("max_precio", RULE_MAX_PRECIO),
            ("integer", RULE_INTEGER),
            ("cantidad_range", RULE_CANTIDAD_RANGE),
        ]);
        let code: BTreeMap<String, String> = code
            .into_iter()
            .map(|(id, text)| (id.to_owned(), text.to_owned()))
            .collect();
        assert_eq!(code, contract().rules);
    }

    #[test]
    fn every_contract_case() {
        let contract = contract();
        assert!(contract.cases.len() > 50, "contract/sale.json lost its cases");
        for case in &contract.cases {
            let name = &case.name;
            match parse_sale(case.body.as_bytes()) {
                Ok(sale) => {
                    assert_eq!(case.status, 200, "{name}: accepted {sale:?}");
                    let got = serde_json::to_value(&sale).expect("a sale serializes");
                    assert_eq!(Some(&got), case.sale.as_ref(), "{name}");
                }
                Err(e) => {
                    assert_eq!(e.status().as_u16(), case.status, "{name}: {e:?}");
                    let fields: Vec<(String, String)> = match &e {
                        ApiError::Validation(f) => f.iter().map(|f| (f.field.clone(), f.rule.clone())).collect(),
                        _ => vec![],
                    };
                    let want: Vec<(String, String)> = case
                        .fields
                        .iter()
                        .map(|f| (f.field.clone(), contract.rules[&f.rule].clone()))
                        .collect();
                    assert_eq!(fields, want, "{name}");
                    if let (Some(message), ApiError::MalformedJson(m)) = (&case.message, &e) {
                        assert_eq!(m, message, "{name}");
                    }
                }
            }
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_400() {
        assert!(matches!(
            parse_sale(&[0xff, 0xfe, b'{', b'}']),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
