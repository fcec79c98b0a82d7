package sale

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	pb "github.com/blackfriday-operator/go-services/proto"
)

// with returns the contract example with one field's literal JSON text replaced (kept as text
// so numbers such as 1e999 reach the validator unchanged).
func with(field, value string) string {
	parts := []string{}
	for _, kv := range [][2]string{{"categoria", `"Belleza"`}, {"producto_id", `"BEL-001"`}, {"precio", "129.99"}, {"cantidad_vendida", "3"}} {
		v := kv[1]
		if kv[0] == field {
			v = value
		}
		parts = append(parts, fmt.Sprintf("%q:%s", kv[0], v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func ok(t *testing.T, body string) *pb.ProductSaleRequest {
	t.Helper()
	req, err := ParseJSON([]byte(body))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return req
}

func fieldErrs(t *testing.T, body string) []FieldError {
	t.Helper()
	_, err := ParseJSON([]byte(body))
	var v *ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("%s: expected a validation error, got %v", body, err)
	}
	return v.Fields
}

func one(t *testing.T, body, field, rule string) {
	t.Helper()
	got := fieldErrs(t, body)
	if len(got) != 1 || got[0] != (FieldError{field, rule}) {
		t.Errorf("%s: got %v, want [%s: %s]", body, got, field, rule)
	}
}

func TestContractExampleIsValid(t *testing.T) {
	req := ok(t, `{"categoria": "Belleza", "producto_id": "BEL-001", "precio": 129.99, "cantidad_vendida": 3}`)
	if req.Categoria != pb.CategoriaProducto_Belleza || req.ProductoId != "BEL-001" || req.Precio != 129.99 || req.CantidadVendida != 3 {
		t.Fatalf("got %v", req)
	}
	if err := Validate(req); err != nil {
		t.Fatal(err)
	}
}

func TestCategoriaByNameAnyCaseOrNumber(t *testing.T) {
	cases := map[string]pb.CategoriaProducto{`"electronica"`: 1, `"ROPA"`: 2, "3": 3, "4": 4, `"Belleza"`: 4}
	for v, want := range cases {
		if got := ok(t, with("categoria", v)).Categoria; got != want {
			t.Errorf("%s: got %v want %v", v, got, want)
		}
	}
}

func TestCategoriaUnknownZeroOrWrongType(t *testing.T) {
	for _, v := range []string{"0", "5", "-1", `"Juguetes"`, `""`, `"CATEGORIA_PRODUCTO_UNSPECIFIED"`, "1.0", "99999999999999999999999"} {
		one(t, with("categoria", v), "categoria", RuleCategoria)
	}
	for _, v := range []string{"true", "[1]", "{}"} {
		one(t, with("categoria", v), "categoria", RuleCategoriaType)
	}
}

func TestProductoIDRules(t *testing.T) {
	if got := ok(t, with("producto_id", `"  BEL-001 "`)).ProductoId; got != "BEL-001" {
		t.Errorf("not trimmed: %q", got)
	}
	ok(t, with("producto_id", `"`+strings.Repeat("a", 64)+`"`))
	one(t, with("producto_id", `""`), "producto_id", RuleProductoEmpty)
	one(t, with("producto_id", `"   "`), "producto_id", RuleProductoEmpty)
	one(t, with("producto_id", `"`+strings.Repeat("a", 65)+`"`), "producto_id", RuleProductoLong)
	one(t, with("producto_id", `"BEL 001"`), "producto_id", RuleProductoChars)
	one(t, with("producto_id", `"BEL/001"`), "producto_id", RuleProductoChars)
	one(t, with("producto_id", `"prodücto"`), "producto_id", RuleProductoChars)
	one(t, with("producto_id", "42"), "producto_id", RuleString)
}

func TestPrecioRules(t *testing.T) {
	if got := ok(t, with("precio", "1000000")).Precio; got != 1e6 {
		t.Errorf("got %v", got)
	}
	ok(t, with("precio", "0.01"))
	for v, rule := range map[string]string{
		"0": RulePositive, "-0.0": RulePositive, "-5": RulePositive,
		"1000000.01": RuleMaxPrecio, "1e300": RuleMaxPrecio,
		"1e999": RuleFinite, "-1e999": RuleFinite,
		`"NaN"`: RuleNumber, `"12.5"`: RuleNumber, "true": RuleNumber,
	} {
		one(t, with("precio", v), "precio", rule)
	}
}

func TestCantidadRules(t *testing.T) {
	if got := ok(t, with("cantidad_vendida", "2147483647")).CantidadVendida; got != 2147483647 {
		t.Errorf("got %v", got)
	}
	ok(t, with("cantidad_vendida", "1"))
	for v, rule := range map[string]string{
		"0": RuleCantidadRange, "-3": RuleCantidadRange, "2147483648": RuleCantidadRange,
		"123456789012345678901234567890123456789012": RuleCantidadRange,
		"2.5": RuleInteger, "3.0": RuleInteger, "1e3": RuleInteger, `"3"`: RuleInteger,
	} {
		one(t, with("cantidad_vendida", v), "cantidad_vendida", rule)
	}
}

func TestMissingAndNullFieldsAreAllListedInOrder(t *testing.T) {
	got := fieldErrs(t, "{}")
	want := []string{"categoria", "producto_id", "precio", "cantidad_vendida"}
	if len(got) != 4 {
		t.Fatalf("got %v", got)
	}
	for i, f := range want {
		if got[i] != (FieldError{f, RuleRequired}) {
			t.Errorf("%d: got %v", i, got[i])
		}
	}
	one(t, with("precio", "null"), "precio", RuleRequired)
	e := fieldErrs(t, `{"categoria": 0, "producto_id": "ok", "precio": -1, "cantidad_vendida": 1, "extra": [1,2]}`)
	if len(e) != 2 || e[0].Field != "categoria" || e[1].Field != "precio" {
		t.Errorf("got %v", e)
	}
	if msg := (&ValidationError{e}).Error(); msg != "the sale has 2 invalid fields" {
		t.Errorf("message %q", msg)
	}
}

func TestUnknownFieldsAreIgnored(t *testing.T) {
	ok(t, `{"categoria":1,"producto_id":"X","precio":1,"cantidad_vendida":1,"nota":{"a":[null]}}`)
}

func TestMalformedBodies(t *testing.T) {
	for _, b := range []string{"", "   ", "{", "not json", `{"categoria":1,}`, "{} {}", "\ufeff{}", "\xff\xfe{}"} {
		var m *MalformedError
		if _, err := ParseJSON([]byte(b)); !errors.As(err, &m) {
			t.Errorf("%q: got %v", b, err)
		}
	}
	for _, b := range []string{"[]", "[1,2]", `"sale"`, "42", "null", "true"} {
		var m *MalformedError
		if _, err := ParseJSON([]byte(b)); !errors.As(err, &m) || m.Message != "body must be a JSON object" {
			t.Errorf("%q: got %v", b, err)
		}
	}
}

func TestValidateProto(t *testing.T) {
	good := &pb.ProductSaleRequest{Categoria: 2, ProductoId: "ROP-1", Precio: 10, CantidadVendida: 1}
	if err := Validate(good); err != nil {
		t.Fatal(err)
	}
	bad := &pb.ProductSaleRequest{Categoria: 0, ProductoId: " x", Precio: -1, CantidadVendida: 0}
	var v *ValidationError
	if err := Validate(bad); !errors.As(err, &v) || len(v.Fields) != 4 {
		t.Fatalf("got %v", err)
	}
	if err := Validate(&pb.ProductSaleRequest{Categoria: 9, ProductoId: "a", Precio: 1, CantidadVendida: 1}); err == nil {
		t.Fatal("category 9 accepted")
	}
}
