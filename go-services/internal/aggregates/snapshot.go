package aggregates

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/valkey-io/valkey-go"
)

// Extreme is the content of bf:price:max / bf:price:min.
type Extreme struct {
	Precio     float64
	ProductoID string
	Categoria  string
}

// Snapshot is every dashboard key's content, as computed from a set of sales (Expect) or read
// back from Valkey (Read). Tests and benchmarks compare the two.
type Snapshot struct {
	Reports, Units               map[string]int64
	PriceSum, AvgUnits, AvgPrice map[string]float64
	Max, Min                     Extreme
	ProductUnits                 map[string]int64
	CategoryProductUnits         map[string]map[string]int64
	SeriesLen                    map[string]int64 // producto_id → stream length
}

func newSnapshot() Snapshot {
	return Snapshot{
		Reports: map[string]int64{}, Units: map[string]int64{},
		PriceSum: map[string]float64{}, AvgUnits: map[string]float64{}, AvgPrice: map[string]float64{},
		ProductUnits: map[string]int64{}, CategoryProductUnits: map[string]map[string]int64{},
		SeriesLen: map[string]int64{},
	}
}

// Expect computes what the dashboard keys must hold after the given sales (each distinct
// partition/offset counted once, and each non-empty sale id once, as the function does).
// Streams are assumed shorter than their MAXLEN.
func Expect(sales []Sale, opts Options) Snapshot {
	s := newSnapshot()
	seen := map[[2]int64]bool{}
	seenID := map[string]bool{}
	for _, x := range sales {
		k := [2]int64{int64(x.Partition), x.Offset}
		if seen[k] || x.Categoria == "" {
			continue
		}
		seen[k] = true
		if x.SaleID != "" {
			if seenID[x.SaleID] {
				continue
			}
			seenID[x.SaleID] = true
		}
		c := x.Categoria
		s.Reports[c]++
		s.Units[c] += int64(x.Cantidad)
		s.PriceSum[c] += x.Precio
		s.ProductUnits[x.ProductoID] += int64(x.Cantidad)
		if s.CategoryProductUnits[c] == nil {
			s.CategoryProductUnits[c] = map[string]int64{}
		}
		s.CategoryProductUnits[c][x.ProductoID] += int64(x.Cantidad)
		if s.Max.ProductoID == "" || x.Precio > s.Max.Precio || x.Precio == s.Max.Precio && x.ProductoID < s.Max.ProductoID {
			s.Max = Extreme{x.Precio, x.ProductoID, c}
		}
		if s.Min.ProductoID == "" || x.Precio < s.Min.Precio || x.Precio == s.Min.Precio && x.ProductoID < s.Min.ProductoID {
			s.Min = Extreme{x.Precio, x.ProductoID, c}
		}
		if opts.SeriesCategory == "" || opts.SeriesCategory == c {
			s.SeriesLen[x.ProductoID]++
		}
	}
	for c, n := range s.Reports {
		s.AvgUnits[c] = float64(s.Units[c]) / float64(n)
		s.AvgPrice[c] = s.PriceSum[c] / float64(n)
	}
	return s
}

// Read loads every dashboard key from Valkey.
func Read(ctx context.Context, c valkey.Client) (Snapshot, error) {
	s := newSnapshot()
	var err error
	ints := func(key string, into map[string]int64) {
		if err != nil {
			return
		}
		var m map[string]string
		if m, err = c.Do(ctx, c.B().Hgetall().Key(key).Build()).AsStrMap(); err == nil {
			for k, v := range m {
				into[k], _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	floats := func(key string, into map[string]float64) {
		if err != nil {
			return
		}
		var m map[string]string
		if m, err = c.Do(ctx, c.B().Hgetall().Key(key).Build()).AsStrMap(); err == nil {
			for k, v := range m {
				into[k], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	extreme := func(key string, into *Extreme) {
		if err != nil {
			return
		}
		var m map[string]string
		if m, err = c.Do(ctx, c.B().Hgetall().Key(key).Build()).AsStrMap(); err == nil {
			into.Precio, _ = strconv.ParseFloat(m["precio"], 64)
			into.ProductoID, into.Categoria = m["producto_id"], m["categoria"]
		}
	}
	zset := func(key string) map[string]int64 {
		out := map[string]int64{}
		if err != nil {
			return out
		}
		var zs []valkey.ZScore
		if zs, err = c.Do(ctx, c.B().Zrange().Key(key).Min("0").Max("-1").Withscores().Build()).AsZScores(); err == nil {
			for _, z := range zs {
				out[z.Member] = int64(z.Score)
			}
		}
		return out
	}
	ints(KeyReports, s.Reports)
	ints(KeyUnits, s.Units)
	floats(KeyPriceSum, s.PriceSum)
	floats(KeyAvgUnits, s.AvgUnits)
	floats(KeyAvgPrice, s.AvgPrice)
	extreme(KeyPriceMax, &s.Max)
	extreme(KeyPriceMin, &s.Min)
	s.ProductUnits = zset(KeyProductUnits)
	for _, cat := range []string{"Electronica", "Ropa", "Hogar", "Belleza"} {
		if m := zset(CategoryProductUnitsKey(cat)); len(m) > 0 {
			s.CategoryProductUnits[cat] = m
		}
	}
	if err != nil {
		return s, err
	}
	keys, err := scanKeys(ctx, c, "bf:series:*")
	if err != nil {
		return s, err
	}
	for _, k := range keys {
		n, err := c.Do(ctx, c.B().Xlen().Key(k).Build()).AsInt64()
		if err != nil {
			return s, err
		}
		s.SeriesLen[strings.TrimPrefix(k, "bf:series:")] = n
	}
	return s, nil
}

func scanKeys(ctx context.Context, c valkey.Client, pattern string) ([]string, error) {
	var keys []string
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
		if err != nil {
			return nil, err
		}
		keys = append(keys, e.Elements...)
		if cursor = e.Cursor; cursor == 0 {
			return keys, nil
		}
	}
}

// Diff lists every difference between an expected and an actual snapshot (empty = equal).
// Counts must match exactly; float sums may differ in the last bits because the summation order
// depends on batching; averages are stored with 6 decimals.
func Diff(want, got Snapshot) []string {
	var d []string
	intMap := func(name string, w, g map[string]int64) {
		for _, k := range unionKeys(w, g) {
			if w[k] != g[k] {
				d = append(d, fmt.Sprintf("%s[%s]: want %d, got %d", name, k, w[k], g[k]))
			}
		}
	}
	floatMap := func(name string, w, g map[string]float64, absTol float64) {
		for _, k := range unionKeys(w, g) {
			wv, wok := w[k]
			gv, gok := g[k]
			if wok != gok || math.Abs(wv-gv) > absTol+1e-9*math.Abs(wv) {
				d = append(d, fmt.Sprintf("%s[%s]: want %v, got %v", name, k, wv, gv))
			}
		}
	}
	intMap("bf:reports", want.Reports, got.Reports)
	intMap("bf:units", want.Units, got.Units)
	floatMap("bf:price_sum", want.PriceSum, got.PriceSum, 1e-6)
	floatMap("bf:avg_units", want.AvgUnits, got.AvgUnits, 1e-6)
	floatMap("bf:avg_price", want.AvgPrice, got.AvgPrice, 1e-6)
	if want.Max != got.Max {
		d = append(d, fmt.Sprintf("bf:price:max: want %+v, got %+v", want.Max, got.Max))
	}
	if want.Min != got.Min {
		d = append(d, fmt.Sprintf("bf:price:min: want %+v, got %+v", want.Min, got.Min))
	}
	intMap("bf:product_units", want.ProductUnits, got.ProductUnits)
	cats := map[string]bool{}
	for c := range want.CategoryProductUnits {
		cats[c] = true
	}
	for c := range got.CategoryProductUnits {
		cats[c] = true
	}
	for c := range cats {
		intMap(CategoryProductUnitsKey(c), want.CategoryProductUnits[c], got.CategoryProductUnits[c])
	}
	intMap("bf:series len", want.SeriesLen, got.SeriesLen)
	sort.Strings(d)
	return d
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
