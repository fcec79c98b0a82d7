//! The validated sale: what leaves rust-api after validation, in REST or gRPC form.

use serde::Serialize;

use crate::pb;

/// The four categories of the brief. The proto's `CATEGORIA_PRODUCTO_UNSPECIFIED = 0` exists only
/// because proto3 needs a zero value; it never becomes a `Categoria`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Categoria {
    Electronica,
    Ropa,
    Hogar,
    Belleza,
}

impl Categoria {
    pub const ALL: [Categoria; 4] = [
        Categoria::Electronica,
        Categoria::Ropa,
        Categoria::Hogar,
        Categoria::Belleza,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Categoria::Electronica => "Electronica",
            Categoria::Ropa => "Ropa",
            Categoria::Hogar => "Hogar",
            Categoria::Belleza => "Belleza",
        }
    }

    /// The proto enum number (1–4).
    pub fn number(self) -> i32 {
        match self {
            Categoria::Electronica => pb::CategoriaProducto::Electronica as i32,
            Categoria::Ropa => pb::CategoriaProducto::Ropa as i32,
            Categoria::Hogar => pb::CategoriaProducto::Hogar as i32,
            Categoria::Belleza => pb::CategoriaProducto::Belleza as i32,
        }
    }

    pub fn from_number(n: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|c| i64::from(c.number()) == n)
    }

    /// Case-insensitive name match (contract: `belleza` == `Belleza`).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(s))
    }
}

/// A sale that passed every rule of docs/contracts.md §1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sale {
    /// Serialized as its name: grpc-client accepts names and numbers, names read better in logs.
    pub categoria: Categoria,
    /// Already trimmed.
    pub producto_id: String,
    pub precio: f64,
    pub cantidad_vendida: i32,
}

impl Sale {
    pub fn to_proto(&self) -> pb::ProductSaleRequest {
        pb::ProductSaleRequest {
            categoria: self.categoria.number(),
            producto_id: self.producto_id.clone(),
            precio: self.precio,
            cantidad_vendida: self.cantidad_vendida,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_proto() {
        assert_eq!(Categoria::Electronica.number(), 1);
        assert_eq!(Categoria::Belleza.number(), 4);
        assert_eq!(Categoria::from_number(0), None);
        assert_eq!(Categoria::from_number(5), None);
        assert_eq!(Categoria::from_number(3), Some(Categoria::Hogar));
        assert_eq!(Categoria::from_name("rOPA"), Some(Categoria::Ropa));
        assert_eq!(Categoria::from_name("CATEGORIA_PRODUCTO_UNSPECIFIED"), None);
    }

    #[test]
    fn serializes_category_by_name() {
        let s = Sale {
            categoria: Categoria::Belleza,
            producto_id: "BEL-001".into(),
            precio: 1.5,
            cantidad_vendida: 2,
        };
        let v: serde_json::Value = serde_json::to_value(&s).unwrap();
        assert_eq!(v["categoria"], "Belleza");
        assert_eq!(s.to_proto().categoria, 4);
    }
}
