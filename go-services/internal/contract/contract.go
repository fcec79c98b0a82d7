// Package contract reads the repository's contract/ folder — the one source of every contract
// between the programs (sale cases and rule texts, environment variables, ports, Valkey keys) —
// for the Go tests, so they check the very cases the Rust and Python tests check.
package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Dir finds contract/ by walking up from the working directory (a Go test runs in its package's
// folder, somewhere below the repository root).
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "contract")
		if st, err := os.Stat(filepath.Join(candidate, "sale.json")); err == nil && !st.IsDir() {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no contract/ folder above the working directory")
		}
		dir = parent
	}
}

// Load decodes contract/<name> into v, failing the test on any error.
func Load(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("contract/%s: %v", name, err)
	}
}

// Sale is contract/sale.json.
type Sale struct {
	Rules map[string]string `json:"rules"`
	Cases []SaleCase        `json:"cases"`
}

// SaleCase is one request body and the answer every implementation gives it.
type SaleCase struct {
	Name   string `json:"name"`
	Body   string `json:"body"`
	Status int    `json:"status"`
	// Fields (422): the broken fields in order, Rule being an id of Sale.Rules.
	Fields []struct {
		Field string `json:"field"`
		Rule  string `json:"rule"`
	} `json:"fields"`
	// Sale (200): the sale as accepted.
	Sale *struct {
		Categoria       string  `json:"categoria"`
		ProductoID      string  `json:"producto_id"`
		Precio          float64 `json:"precio"`
		CantidadVendida int32   `json:"cantidad_vendida"`
	} `json:"sale"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

// LoadSale reads contract/sale.json.
func LoadSale(t testing.TB) Sale {
	var s Sale
	Load(t, "sale.json", &s)
	if len(s.Cases) < 50 {
		t.Fatalf("contract/sale.json has only %d cases", len(s.Cases))
	}
	return s
}

// FieldRules are a case's broken fields as (field, rule text) pairs.
func (s Sale) FieldRules(c SaleCase) [][2]string {
	var out [][2]string
	for _, f := range c.Fields {
		out = append(out, [2]string{f.Field, s.Rules[f.Rule]})
	}
	return out
}
