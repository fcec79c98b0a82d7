package sale

import (
	"errors"
	"reflect"
	"testing"

	"github.com/blackfriday-operator/go-services/internal/contract"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// The cases are contract/sale.json's, shared with rust-api and the Go forwarder; what only this
// package can be asked (bytes that are not UTF-8, the proto check, the message) stays here.

// TestRuleTextsAreTheContracts: every rule constant is the contract's text, and every contract
// rule has its constant.
func TestRuleTextsAreTheContracts(t *testing.T) {
	code := map[string]string{
		"required": RuleRequired, "categoria": RuleCategoria, "categoria_type": RuleCategoriaType,
		"string": RuleString, "producto_empty": RuleProductoEmpty, "producto_long": RuleProductoLong,
		"producto_chars": RuleProductoChars, "number": RuleNumber, "finite": RuleFinite,
		"positive": RulePositive, "max_precio": RuleMaxPrecio, "integer": RuleInteger,
		"cantidad_range": RuleCantidadRange,
	}
	if want := contract.LoadSale(t).Rules; !reflect.DeepEqual(code, want) {
		t.Fatalf("rule texts differ from contract/sale.json:\n code     %v\n contract %v", code, want)
	}
}

func TestEveryContractCase(t *testing.T) {
	c := contract.LoadSale(t)
	for _, tc := range c.Cases {
		req, err := ParseJSON([]byte(tc.Body))
		var v *ValidationError
		var m *MalformedError
		switch {
		case err == nil:
			got := [4]any{CategoryName(req.Categoria), req.ProductoId, req.Precio, req.CantidadVendida}
			if tc.Status != 200 || tc.Sale == nil {
				t.Errorf("%s: accepted %v, want %d", tc.Name, got, tc.Status)
			} else if want := [4]any{tc.Sale.Categoria, tc.Sale.ProductoID, tc.Sale.Precio, tc.Sale.CantidadVendida}; got != want {
				t.Errorf("%s: got %v, want %v", tc.Name, got, want)
			}
		case errors.As(err, &v):
			var got [][2]string
			for _, f := range v.Fields {
				got = append(got, [2]string{f.Field, f.Rule})
			}
			if want := c.FieldRules(tc); tc.Status != 422 || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: 422 %v, want %d %v", tc.Name, got, tc.Status, want)
			}
		case errors.As(err, &m):
			if tc.Status != 400 || (tc.Message != "" && m.Message != tc.Message) {
				t.Errorf("%s: 400 %q, want %d %q", tc.Name, m.Message, tc.Status, tc.Message)
			}
		default:
			t.Errorf("%s: unexpected error %v", tc.Name, err)
		}
	}
}

func TestBytesThatAreNotUTF8AreMalformed(t *testing.T) {
	var m *MalformedError
	if _, err := ParseJSON([]byte("\xff\xfe{}")); !errors.As(err, &m) {
		t.Errorf("got %v", err)
	}
}

func TestValidationMessageCountsFields(t *testing.T) {
	e := []FieldError{{"categoria", RuleCategoria}, {"precio", RulePositive}}
	if msg := (&ValidationError{e}).Error(); msg != "the sale has 2 invalid fields" {
		t.Errorf("message %q", msg)
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
