package aggregates_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/testenv"
)

func TestArgsLayout(t *testing.T) {
	o := aggregates.Options{TTL: 2 * time.Hour, SeriesMaxLen: 50, SeriesCategory: "Belleza", DedupWindow: 90 * time.Second}
	got := o.Args([]aggregates.Sale{{Partition: 3, Offset: 41, SaleID: "id-1", Categoria: "Belleza", ProductoID: "BEL-001", Precio: 129.99, Cantidad: 3}})
	want := "7200 50 Belleza 90 3 41 id-1 Belleza BEL-001 129.99 3"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q", strings.Join(got, " "))
	}
}

func TestExpectTieBreaksBySmallestProduct(t *testing.T) {
	s := aggregates.Expect([]aggregates.Sale{
		{Offset: 0, Categoria: "Ropa", ProductoID: "B", Precio: 10, Cantidad: 1},
		{Offset: 1, Categoria: "Hogar", ProductoID: "A", Precio: 10, Cantidad: 1},
		{Offset: 2, Categoria: "Ropa", ProductoID: "C", Precio: 5, Cantidad: 1},
		{Offset: 2, Categoria: "Ropa", ProductoID: "C", Precio: 5, Cantidad: 1}, // same position: once
	}, aggregates.Options{})
	if s.Max != (aggregates.Extreme{10, "A", "Hogar"}) || s.Min != (aggregates.Extreme{5, "C", "Ropa"}) || s.Reports["Ropa"] != 2 {
		t.Fatalf("%+v", s)
	}
}

// store returns a Store on a private Valkey with the function loaded.
func store(t *testing.T, opts aggregates.Options) (*aggregates.Store, *testenv.Valkey) {
	v := testenv.NewValkey(t)
	st := aggregates.NewStore(v.Client, opts)
	if err := st.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, v
}

func check(t *testing.T, v *testenv.Valkey, want aggregates.Snapshot) {
	t.Helper()
	got, err := aggregates.Read(context.Background(), v.Client)
	if err != nil {
		t.Fatal(err)
	}
	if d := aggregates.Diff(want, got); len(d) > 0 {
		t.Fatalf("%d differences, first: %s", len(d), strings.Join(d[:min(len(d), 10)], "\n"))
	}
}

// The function against the Go model, in batches of varying size, then every kind of
// redelivery: whole batches again, overlapping ranges, and a shuffled partition.
func TestFunctionMatchesModelAndSkipsRedelivery(t *testing.T) {
	opts := aggregates.Options{Topic: "t", TTL: time.Hour, SeriesMaxLen: 1000}
	st, v := store(t, opts)
	ctx := context.Background()
	all := testenv.AsAggregates(testenv.Sales(3000, 15, 1))
	// spread over 3 partitions, offsets per partition increasing
	next := [3]int64{}
	for i := range all {
		p := int32(i % 3)
		all[i].Partition, all[i].Offset = p, next[p]
		next[p]++
	}
	applied := int64(0)
	for i, size := 0, 1; i < len(all); i, size = i+size, size*2+1 {
		res, err := st.Apply(ctx, all[i:min(i+size, len(all))])
		if err != nil {
			t.Fatal(err)
		}
		applied += res.Applied
	}
	if applied != int64(len(all)) {
		t.Fatalf("applied %d of %d", applied, len(all))
	}
	want := aggregates.Expect(all, opts)
	check(t, v, want)

	// redeliver everything, and an overlapping window, in other batch shapes
	for _, batch := range [][]aggregates.Sale{all, all[100:2500], all[2999:]} {
		res, err := st.Apply(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res.Applied != 0 || res.Skipped != int64(len(batch)) {
			t.Fatalf("redelivery applied %+v", res)
		}
	}
	check(t, v, want)

	offsets, err := st.Offsets(ctx)
	if err != nil || offsets[0] != next[0] || offsets[1] != next[1] || offsets[2] != next[2] {
		t.Fatalf("offsets %v %v, want %v", offsets, err, next)
	}

	// TTLs: growing keys expire, bounded ones do not
	for key, wantTTL := range map[string]bool{
		aggregates.KeyProductUnits: true, aggregates.CategoryProductUnitsKey("Ropa"): true,
		aggregates.SeriesKey(all[0].ProductoID): true, aggregates.KeyReports: false, aggregates.OffsetsKey("t"): false,
	} {
		ttl, err := v.Client.Do(ctx, v.Client.B().Ttl().Key(key).Build()).AsInt64()
		if err != nil || (ttl > 0) != wantTTL || ttl > 3600 {
			t.Errorf("TTL %s = %d (%v), want set=%v", key, ttl, err, wantTTL)
		}
	}
}

func TestBatchStartingMidPartitionAppliesOnlyTheNewPart(t *testing.T) {
	st, v := store(t, aggregates.Options{Topic: "t"})
	ctx := context.Background()
	all := testenv.AsAggregates(testenv.Sales(100, 3, 2))
	if _, err := st.Apply(ctx, all[:60]); err != nil {
		t.Fatal(err)
	}
	res, err := st.Apply(ctx, all[40:]) // 20 already applied, 40 new
	if err != nil || res.Applied != 40 || res.Skipped != 20 {
		t.Fatalf("%+v %v", res, err)
	}
	check(t, v, aggregates.Expect(all, aggregates.Options{}))
}

func TestUndecodableRecordOnlyAdvancesOffset(t *testing.T) {
	st, v := store(t, aggregates.Options{Topic: "t"})
	ctx := context.Background()
	batch := []aggregates.Sale{
		{Partition: 1, Offset: 5, Categoria: "Hogar", ProductoID: "H", Precio: 2.5, Cantidad: 2},
		{Partition: 1, Offset: 6}, // undecodable
	}
	if _, err := st.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	check(t, v, aggregates.Expect(batch, aggregates.Options{}))
	if off, err := st.Offsets(ctx); err != nil || off[1] != 7 {
		t.Fatalf("offsets %v %v", off, err)
	}
}

func TestTiesAcrossBatchesAndSeriesCategory(t *testing.T) {
	opts := aggregates.Options{Topic: "t", SeriesCategory: "Belleza"}
	st, v := store(t, opts)
	ctx := context.Background()
	a := []aggregates.Sale{{Partition: 0, Offset: 0, Categoria: "Ropa", ProductoID: "R-2", Precio: 100, Cantidad: 1}}
	b := []aggregates.Sale{{Partition: 1, Offset: 0, Categoria: "Belleza", ProductoID: "B-1", Precio: 100, Cantidad: 4},
		{Partition: 1, Offset: 1, Categoria: "Belleza", ProductoID: "A-9", Precio: 100, Cantidad: 1}}
	for _, batch := range [][]aggregates.Sale{a, b} {
		if res, err := st.Apply(ctx, batch); err != nil || res.Applied != int64(len(batch)) {
			t.Fatalf("apply %+v: %+v %v", batch, res, err)
		}
	}
	want := aggregates.Expect(append(a, b...), opts)
	if want.Max.ProductoID != "A-9" || want.Min.ProductoID != "A-9" || len(want.SeriesLen) != 2 {
		t.Fatalf("model: %+v", want)
	}
	check(t, v, want)
	avg, err := v.Client.Do(ctx, v.Client.B().Hget().Key(aggregates.KeyAvgUnits).Field("Belleza").Build()).ToString()
	if err != nil || avg != "2.5" {
		t.Errorf("avg_units Belleza = %q (%v), want 2.5", avg, err)
	}
}

func TestLostFunctionIsReloaded(t *testing.T) {
	st, v := store(t, aggregates.Options{Topic: "t"})
	ctx := context.Background()
	if err := v.Client.Do(ctx, v.Client.B().FunctionFlush().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	batch := testenv.AsAggregates(testenv.Sales(10, 2, 3))
	if res, err := st.Apply(ctx, batch); err != nil || res.Applied != 10 {
		t.Fatalf("%+v %v", res, err)
	}
	check(t, v, aggregates.Expect(batch, aggregates.Options{}))
}

// A client retried an in-doubt answer and both tries reached Kafka: two records (other
// partitions and offsets) with one sale id. The sale is counted once, in the same batch and
// across batches; the marker key expires after the dedup window; a record without an id is
// counted as before.
func TestSameSaleIDInTwoRecordsIsCountedOnce(t *testing.T) {
	opts := aggregates.Options{Topic: "t", DedupWindow: 120 * time.Second}
	st, v := store(t, opts)
	ctx := context.Background()
	sale := func(p int32, off int64, id string) aggregates.Sale {
		return aggregates.Sale{Partition: p, Offset: off, SaleID: id, Categoria: "Ropa", ProductoID: "ROP-001", Precio: 10, Cantidad: 2}
	}
	first := []aggregates.Sale{sale(0, 0, "a"), sale(1, 0, "a"), sale(1, 1, "b")} // "a" twice in one batch
	res, err := st.Apply(ctx, first)
	if err != nil || res != (aggregates.Result{Applied: 2, Duplicates: 1}) {
		t.Fatalf("first batch %+v %v", res, err)
	}
	second := []aggregates.Sale{sale(2, 0, "b"), sale(2, 1, ""), sale(2, 2, "")} // "b" again, later batch
	res, err = st.Apply(ctx, second)
	if err != nil || res != (aggregates.Result{Applied: 2, Duplicates: 1}) {
		t.Fatalf("second batch %+v %v", res, err)
	}
	all := append(first, second...)
	want := aggregates.Expect(all, opts)
	if want.Reports["Ropa"] != 4 {
		t.Fatalf("model counts %d, want 4 (a, b and two without id)", want.Reports["Ropa"])
	}
	check(t, v, want)
	// redelivering the records skips them by offset: neither counted nor taken as duplicates
	if res, err := st.Apply(ctx, all); err != nil || res != (aggregates.Result{Skipped: 6}) {
		t.Fatalf("redelivery %+v %v", res, err)
	}
	counted, err := aggregates.CountedSales(ctx, v.Client)
	if err != nil || len(counted) != 2 || counted["a"] != "Ropa" || counted["b"] != "Ropa" {
		t.Fatalf("dedup set %v (%v), want a and b under Ropa", counted, err)
	}
	// the buckets expire: 7 buckets of window/5 (120 s / 5 = 24 s → 168 s)
	keys, _ := v.Client.Do(ctx, v.Client.B().Keys().Pattern(aggregates.KeySalesPrefix+"*").Build()).AsStrSlice()
	for _, k := range keys {
		ttl, _ := v.Client.Do(ctx, v.Client.B().Ttl().Key(k).Build()).AsInt64()
		if ttl <= 0 || ttl > 168 {
			t.Errorf("%s TTL %d, want (0, 168]", k, ttl)
		}
	}
}

// A retry consumed in a later bucket of the window is still a duplicate: with a 5 s window the
// buckets are 1 s long, the lookup goes 6 buckets back.
func TestRetryInALaterBucketIsStillADuplicate(t *testing.T) {
	st, _ := store(t, aggregates.Options{Topic: "t", DedupWindow: 5 * time.Second})
	ctx := context.Background()
	one := func(off int64) aggregates.Result {
		res, err := st.Apply(ctx, []aggregates.Sale{{Partition: 0, Offset: off, SaleID: "late", Categoria: "Hogar", ProductoID: "H", Precio: 1, Cantidad: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if r := one(0); r.Applied != 1 {
		t.Fatalf("first %+v", r)
	}
	time.Sleep(2200 * time.Millisecond) // two bucket boundaries later
	if r := one(1); r.Duplicates != 1 || r.Applied != 0 {
		t.Fatalf("retry two buckets later %+v, want a duplicate", r)
	}
}

// The dedup lookup is one HMGET per bucket for all of a batch's sale ids, in slices of 1,000 ids
// (blackfriday.lua's CHUNK). A batch of more than two slices counts each id once, also an id twice
// in it; a later batch, two buckets on, mixing ids of the first batch (in its second slice, and
// twice) with new ids (one twice) counts only the new ones, once each.
func TestDuplicatesInOneBatchAndAcrossBuckets(t *testing.T) {
	opts := aggregates.Options{Topic: "t", DedupWindow: 5 * time.Second} // buckets of 1 s
	st, v := store(t, opts)
	ctx := context.Background()
	base := testenv.AsAggregates(testenv.Sales(2500+1300, 5, 4))
	withIDs := func(part int32, ids []string) []aggregates.Sale {
		out := make([]aggregates.Sale, len(ids))
		for i, id := range ids {
			out[i] = base[len(base)-1-i%len(base)]
			out[i].Partition, out[i].Offset, out[i].SaleID = part, int64(i), id
		}
		return out
	}
	old := make([]string, 2500)
	for i := range old {
		old[i] = fmt.Sprintf("old-%d", i)
	}
	first := withIDs(0, append(old, "old-7", "old-2100")) // two ids again, in the first and third slice
	if res, err := st.Apply(ctx, first); err != nil || res != (aggregates.Result{Applied: 2500, Duplicates: 2}) {
		t.Fatalf("first batch %+v %v, want 2500 applied, 2 duplicates", res, err)
	}
	time.Sleep(2200 * time.Millisecond) // two bucket boundaries later: the ids are in an older bucket
	var ids []string
	for i := range 1200 {
		ids = append(ids, fmt.Sprintf("new-%d", i))
	}
	// 1,200 new ids first, so the old ones and the repeats are looked up in the second slice
	ids = append(ids, "old-0", "new-5", "old-2499", "new-1199", "old-0", "new-x", "new-x")
	second := withIDs(1, ids)
	if err := v.Client.Do(ctx, v.Client.B().ConfigResetstat().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if res, err := st.Apply(ctx, second); err != nil || res != (aggregates.Result{Applied: 1201, Duplicates: 6}) {
		t.Fatalf("second batch %+v %v, want 1201 applied (1,200 + new-x), 6 duplicates", res, err)
	}
	// the lookups and the bucket's writes are per batch: ≤ 7 buckets × 2 slices + the offsets'
	// and extremes' HMGETs and HSETs, not one HEXISTS per record and bucket (≈ 8,400 here)
	if n := hashCalls(t, v); n > 40 {
		t.Errorf("%d HMGET/HSET/HEXISTS calls for one batch of %d records, want <= 40", n, len(second))
	}
	want := aggregates.Expect(append(first, second...), opts)
	if n := want.Reports["Ropa"] + want.Reports["Hogar"] + want.Reports["Electronica"] + want.Reports["Belleza"]; n != 2500+1201 {
		t.Fatalf("model counts %d sales, want %d", n, 2500+1201)
	}
	check(t, v, want)
	counted, err := aggregates.CountedSales(ctx, v.Client)
	if err != nil || len(counted) != 2500+1201 || counted["new-x"] != second[len(second)-2].Categoria {
		t.Fatalf("dedup set holds %d ids (%v), want %d with new-x", len(counted), err, 2500+1201)
	}
}

// hashCalls is how many HMGET, HSET and HEXISTS commands Valkey ran since the last CONFIG
// RESETSTAT, also inside functions (INFO commandstats).
func hashCalls(t *testing.T, v *testenv.Valkey) int {
	t.Helper()
	info, err := v.Client.Do(context.Background(), v.Client.B().Info().Section("commandstats").Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(info, "\n") {
		for _, cmd := range []string{"hmget", "hset", "hexists"} {
			if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
				calls, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
				if err != nil {
					t.Fatalf("commandstats line %q: %v", line, err)
				}
				n += calls
			}
		}
	}
	return n
}

// A call without records (Store.Apply never makes one; a hand-made FCALL may) changes nothing
// and returns zeros instead of failing on an HMGET without fields.
func TestFunctionCallWithoutRecords(t *testing.T) {
	opts := aggregates.Options{Topic: "t"}
	_, v := store(t, opts)
	ctx := context.Background()
	cmd := v.Client.B().Fcall().Function(aggregates.FunctionName).Numkeys(1).Key(aggregates.OffsetsKey("t")).Arg(opts.Args(nil)...).Build()
	got, err := v.Client.Do(ctx, cmd).AsIntSlice()
	if err != nil || len(got) != 3 || got[0]+got[1]+got[2] != 0 {
		t.Fatalf("FCALL without records = %v, %v; want [0 0 0]", got, err)
	}
	check(t, v, aggregates.Expect(nil, opts))
}

// Each price stream is trimmed once per batch (XTRIM MAXLEN ~) and stays bounded: approximately,
// so between the bound and the bound plus one stream node (100 entries), with the newest sale last.
func TestPriceStreamsStayBoundedAcrossBatches(t *testing.T) {
	const maxLen = 50
	opts := aggregates.Options{Topic: "t", SeriesMaxLen: maxLen, SeriesCategory: "Belleza"}
	st, v := store(t, opts)
	ctx := context.Background()
	var off int64
	for b := range 3 {
		batch := make([]aggregates.Sale, 300)
		for i := range batch {
			batch[i] = aggregates.Sale{Partition: 0, Offset: off, SaleID: fmt.Sprintf("s-%d", off), Categoria: "Belleza",
				ProductoID: "BEL-1", Precio: float64(off%97) + 0.5, Cantidad: 1}
			off++
		}
		if res, err := st.Apply(ctx, batch); err != nil || res.Applied != 300 {
			t.Fatalf("batch %d: %+v %v", b, res, err)
		}
		n, err := v.Client.Do(ctx, v.Client.B().Xlen().Key(aggregates.SeriesKey("BEL-1")).Build()).AsInt64()
		if err != nil || n < maxLen || n >= maxLen+100 {
			t.Fatalf("after batch %d: XLEN %d (%v), want %d..%d", b, n, err, maxLen, maxLen+99)
		}
	}
	last, err := v.Client.Do(ctx, v.Client.B().Xrevrange().Key(aggregates.SeriesKey("BEL-1")).End("+").Start("-").Count(1).Build()).ToArray()
	if err != nil || len(last) != 1 {
		t.Fatalf("XREVRANGE: %v %v", last, err)
	}
	fields, _ := last[0].AsXRangeEntry()
	if fields.FieldValues["precio"] != strconv.FormatFloat(float64((off-1)%97)+0.5, 'f', -1, 64) {
		t.Fatalf("newest entry %+v, want the last sale's price", fields)
	}
}
