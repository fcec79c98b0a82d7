package aggregates_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/contract"
)

// The key names of the Go code and of the Valkey function are contract/valkey-keys.json's (the
// dashboard is generated from the same file, so writer and reader cannot drift apart).
func TestKeysAreTheContracts(t *testing.T) {
	var c struct {
		Library  string            `json:"library"`
		Function string            `json:"function"`
		Keys     map[string]string `json:"keys"`
		Prefixes map[string]string `json:"prefixes"`
	}
	contract.Load(t, "valkey-keys.json", &c)
	goKeys := map[string]string{
		"reports": aggregates.KeyReports, "units": aggregates.KeyUnits, "price_sum": aggregates.KeyPriceSum,
		"avg_units": aggregates.KeyAvgUnits, "avg_price": aggregates.KeyAvgPrice, "price_max": aggregates.KeyPriceMax,
		"price_min": aggregates.KeyPriceMin, "product_units": aggregates.KeyProductUnits,
	}
	goPrefixes := map[string]string{
		"product_units_by_category": strings.TrimSuffix(aggregates.CategoryProductUnitsKey("X"), "X"),
		"series":                    strings.TrimSuffix(aggregates.SeriesKey("X"), "X"),
		"offsets":                   strings.TrimSuffix(aggregates.OffsetsKey("X"), "X"),
		"sales":                     aggregates.KeySalesPrefix,
	}
	// The Lua library names each key once, as `local K_<NAME> = '<key>'`, plus the series prefix.
	lua := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^local K_(\w+) = '([^']*)'$`).FindAllStringSubmatch(aggregates.LibraryCode, -1) {
		lua[m[1]] = m[2]
	}
	luaKeys := map[string]string{
		"reports": lua["REPORTS"], "units": lua["UNITS"], "price_sum": lua["PRICE_SUM"],
		"avg_units": lua["AVG_UNITS"], "avg_price": lua["AVG_PRICE"], "price_max": lua["MAX"],
		"price_min": lua["MIN"], "product_units": lua["PRODUCT_UNITS"],
	}
	for _, got := range []map[string]string{goKeys, luaKeys} {
		if len(got) != len(c.Keys) {
			t.Errorf("%d keys in the code, %d in the contract", len(got), len(c.Keys))
		}
		for id, key := range c.Keys {
			if got[id] != key {
				t.Errorf("%s: code %q, contract %q", id, got[id], key)
			}
		}
	}
	for id, prefix := range c.Prefixes {
		if goPrefixes[id] != prefix {
			t.Errorf("prefix %s: Go %q, contract %q", id, goPrefixes[id], prefix)
		}
	}
	if lua["SALES"] != c.Prefixes["sales"] || !strings.Contains(aggregates.LibraryCode, "'"+c.Prefixes["series"]+"' .. id") {
		t.Errorf("the Lua library's sales/series prefixes differ from %v", c.Prefixes)
	}
	if aggregates.FunctionName != c.Function ||
		!strings.HasPrefix(aggregates.LibraryCode, "#!lua name="+c.Library+"\n") ||
		!strings.Contains(aggregates.LibraryCode, "redis.register_function('"+c.Function+"'") {
		t.Errorf("library %q / function %q are not the Lua library's and store.go's", c.Library, c.Function)
	}
}
