// Package sale holds the sale contract of docs/contracts.md §1: the four categories, the rules
// every field must satisfy, and the conversion between the HTTP JSON body and the protobuf
// ProductSaleRequest. The HTTP handler (grpc-client) and the gRPC writer both validate with the
// same rules, so a sale that one hop accepts is never refused by the next one.
//
// The rule texts are the same strings rust-api uses (rust-api/src/validation.rs), so a client
// sees identical error bodies whichever forward mode is configured.
package sale

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	pb "github.com/blackfriday-operator/go-services/proto"
)

// Limits of the contract.
const (
	MaxProductoIDBytes = 64
	MaxPrecio          = 1_000_000.0
	// MaxBodyBytes is the HTTP body limit; larger bodies are answered 413.
	MaxBodyBytes = 16 * 1024
)

// Rule texts, shared with rust-api.
const (
	RuleRequired      = "is required"
	RuleCategoria     = "must be one of Electronica, Ropa, Hogar, Belleza or 1-4"
	RuleCategoriaType = "must be a string (Electronica, Ropa, Hogar, Belleza) or an integer 1-4"
	RuleString        = "must be a string"
	RuleProductoEmpty = "must not be empty"
	RuleProductoLong  = "must be at most 64 bytes"
	RuleProductoChars = "may contain only letters, digits, '-', '_' and '.'"
	RuleNumber        = "must be a number"
	RuleFinite        = "must be a finite number"
	RulePositive      = "must be greater than 0"
	RuleMaxPrecio     = "must be at most 1000000"
	RuleInteger       = "must be an integer"
	RuleCantidadRange = "must be between 1 and 2147483647"
)

// Categories in proto-number order (index+1 == number). These spellings are also the Valkey
// hash fields and key suffixes of docs/contracts.md §5.
var Categories = [4]string{"Electronica", "Ropa", "Hogar", "Belleza"}

// CategoryName returns the contract spelling of a proto category, or "" for 0 and unknown values.
func CategoryName(c pb.CategoriaProducto) string {
	if c >= 1 && int(c) <= len(Categories) {
		return Categories[c-1]
	}
	return ""
}

// CategoryFromName matches a category name case-insensitively.
func CategoryFromName(s string) (pb.CategoriaProducto, bool) {
	for i, name := range Categories {
		if strings.EqualFold(name, s) {
			return pb.CategoriaProducto(i + 1), true
		}
	}
	return 0, false
}

// FieldError names one broken field and the rule it broke; it is one element of the error
// body's "fields" array.
type FieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// ValidationError lists every broken field of one sale (→ 422 validation_failed).
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	s := "s"
	if len(e.Fields) == 1 {
		s = ""
	}
	return fmt.Sprintf("the sale has %d invalid field%s", len(e.Fields), s)
}

// MalformedError means the body is not a JSON object at all (→ 400 malformed_json).
type MalformedError struct{ Message string }

func (e *MalformedError) Error() string { return e.Message }

// ParseJSON decodes and validates one HTTP body into the protobuf request the writers take.
// It returns *MalformedError or *ValidationError on failure. Unknown fields are ignored.
func ParseJSON(body []byte) (*pb.ProductSaleRequest, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return nil, &MalformedError{"body must be a JSON object"}
		case len(bytes.TrimSpace(body)) == 0:
			return nil, &MalformedError{"body is empty; expected a JSON object"}
		default:
			return nil, &MalformedError{"body is not valid JSON: " + err.Error()}
		}
	}
	if fields == nil { // the literal `null`
		return nil, &MalformedError{"body must be a JSON object"}
	}

	var errs []FieldError
	check := func(name string, rule func(json.RawMessage) string) {
		raw, ok := fields[name]
		r := RuleRequired
		if ok && string(raw) != "null" {
			r = rule(raw)
		}
		if r != "" {
			errs = append(errs, FieldError{name, r})
		}
	}
	req := &pb.ProductSaleRequest{}
	check("categoria", func(raw json.RawMessage) (rule string) {
		req.Categoria, rule = parseCategoria(raw)
		return rule
	})
	check("producto_id", func(raw json.RawMessage) (rule string) {
		req.ProductoId, rule = parseProductoID(raw)
		return rule
	})
	check("precio", func(raw json.RawMessage) (rule string) {
		req.Precio, rule = parsePrecio(raw)
		return rule
	})
	check("cantidad_vendida", func(raw json.RawMessage) (rule string) {
		req.CantidadVendida, rule = parseCantidad(raw)
		return rule
	})
	if errs != nil {
		return nil, &ValidationError{errs}
	}
	return req, nil
}

// Validate checks a protobuf request with the same rules (used by the writer, whose callers
// may be rust-api in grpc mode or anything else speaking gRPC). producto_id must already be
// trimmed: the writer does not rewrite keys silently.
func Validate(req *pb.ProductSaleRequest) error {
	var errs []FieldError
	if CategoryName(req.GetCategoria()) == "" {
		errs = append(errs, FieldError{"categoria", RuleCategoria})
	}
	if r := productoIDRule(req.GetProductoId()); r != "" {
		errs = append(errs, FieldError{"producto_id", r})
	}
	if r := precioRule(req.GetPrecio()); r != "" {
		errs = append(errs, FieldError{"precio", r})
	}
	if c := req.GetCantidadVendida(); c < 1 {
		errs = append(errs, FieldError{"cantidad_vendida", RuleCantidadRange})
	}
	if errs != nil {
		return &ValidationError{errs}
	}
	return nil
}

// kind is what a JSON literal is, read from its first byte (RawMessage values are trimmed).
type kind int

const (
	kindString kind = iota
	kindNumber
	kindOther
)

func kindOf(raw json.RawMessage) kind {
	if len(raw) == 0 {
		return kindOther
	}
	switch c := raw[0]; {
	case c == '"':
		return kindString
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber
	}
	return kindOther
}

func isIntegerLiteral(raw json.RawMessage) bool {
	return !bytes.ContainsAny(raw, ".eE")
}

func parseCategoria(raw json.RawMessage) (pb.CategoriaProducto, string) {
	switch kindOf(raw) {
	case kindString:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, RuleCategoria
		}
		if c, ok := CategoryFromName(s); ok {
			return c, ""
		}
		return 0, RuleCategoria
	case kindNumber:
		if !isIntegerLiteral(raw) {
			return 0, RuleCategoria
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n < 1 || n > int64(len(Categories)) {
			return 0, RuleCategoria
		}
		return pb.CategoriaProducto(n), ""
	}
	return 0, RuleCategoriaType
}

func parseProductoID(raw json.RawMessage) (string, string) {
	var s string
	if kindOf(raw) != kindString || json.Unmarshal(raw, &s) != nil {
		return "", RuleString
	}
	s = strings.TrimSpace(s)
	return s, productoIDRule(s)
}

func productoIDRule(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return RuleProductoEmpty
	case len(s) > MaxProductoIDBytes:
		return RuleProductoLong
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		// ASCII only: the id becomes the Kafka key and a Valkey key suffix.
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return RuleProductoChars
		}
	}
	return ""
}

func parsePrecio(raw json.RawMessage) (float64, string) {
	if kindOf(raw) != kindNumber {
		return 0, RuleNumber
	}
	// ParseFloat turns an overflowing literal into ±Inf (with ErrRange), which precioRule names.
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, RuleNumber
	}
	return v, precioRule(v)
}

func precioRule(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return RuleFinite
	case v <= 0:
		return RulePositive
	case v > MaxPrecio:
		return RuleMaxPrecio
	}
	return ""
}

func parseCantidad(raw json.RawMessage) (int32, string) {
	if kindOf(raw) != kindNumber || !isIntegerLiteral(raw) {
		return 0, RuleInteger
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 1 || n > math.MaxInt32 {
		// Literals too long for int64 are out of range anyway.
		return 0, RuleCantidadRange
	}
	return int32(n), ""
}
