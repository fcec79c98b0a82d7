// Package aggregates keeps the dashboard's numbers in Valkey (docs/contracts.md §5). Each Kafka
// batch becomes ONE call of the Valkey function bf_apply_batch (blackfriday.lua), which applies
// every aggregate and records the offsets reached in the same atomic step. That is what makes
// the counts exact under crashes, rebalances and redelivery, and what keeps Valkey commands per
// sale far below one.
package aggregates

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"
)

//go:embed blackfriday.lua
var LibraryCode string

// Key names of the contract.
const (
	KeyReports      = "bf:reports"
	KeyUnits        = "bf:units"
	KeyPriceSum     = "bf:price_sum"
	KeyAvgUnits     = "bf:avg_units"
	KeyAvgPrice     = "bf:avg_price"
	KeyPriceMax     = "bf:price:max"
	KeyPriceMin     = "bf:price:min"
	KeyProductUnits = "bf:product_units"
	// KeySalesPrefix + bucket number: the sale ids counted in one stretch of DedupWindow/5 of
	// Valkey's clock (hash sale_id → categoria), the consumer's dedup set (blackfriday.lua).
	KeySalesPrefix = "bf:sales:"
	FunctionName   = "bf_apply_batch"
)

// CategoryProductUnitsKey is the per-category sorted set of units per product.
func CategoryProductUnitsKey(categoria string) string { return KeyProductUnits + ":" + categoria }

// SeriesKey is the price stream of one product.
func SeriesKey(productoID string) string { return "bf:series:" + productoID }

// OffsetsKey is the partition → next offset hash of a topic.
func OffsetsKey(topic string) string { return "bf:offsets:" + topic }

// Sale is one consumed record as the function needs it. Categoria "" marks a record that
// could not be decoded: it only advances the offset.
type Sale struct {
	Partition int32
	Offset    int64
	// SaleID is the record's sale-id header: a sale id already counted within the dedup window
	// is not counted again (a client's retry of an in-doubt answer). "" skips that check.
	SaleID     string
	Categoria  string
	ProductoID string
	Precio     float64
	Cantidad   int32
}

// Options of the store.
type Options struct {
	Topic string
	// TTL of the keys that grow with the number of products (sorted sets, streams).
	TTL time.Duration
	// SeriesMaxLen bounds each price stream (approximately, MAXLEN ~).
	SeriesMaxLen int
	// SeriesCategory, when set, keeps price streams only for that category's products (the
	// dashboard's featured category); empty keeps them for every product.
	SeriesCategory string
	// DedupWindow is how long a counted sale id is remembered (bf:sales:*); a retry whose
	// record arrives later than this after the first may be counted again.
	DedupWindow time.Duration
}

// Result of one batch.
// Applied: counted now; Skipped: offset already applied (the same record again); Duplicates:
// sale id already counted (the same sale in another record).
type Result struct{ Applied, Skipped, Duplicates int64 }

// DefaultDedupWindow covers a client's bounded retries (seconds to a minute) with a wide margin
// while keeping memory small: the dedup set holds at most 1.4 windows of sale ids, ~100 bytes
// each: at 500 sales/s, 21 min → 630k ids, ~65 MB.
const DefaultDedupWindow = 15 * time.Minute

// Store applies batches through the Valkey function.
type Store struct {
	client valkey.Client
	opts   Options
}

func NewStore(client valkey.Client, opts Options) *Store {
	if opts.TTL <= 0 {
		opts.TTL = 7 * 24 * time.Hour
	}
	if opts.SeriesMaxLen <= 0 {
		opts.SeriesMaxLen = 1000
	}
	if opts.DedupWindow < 5*time.Second {
		opts.DedupWindow = DefaultDedupWindow
	}
	return &Store{client: client, opts: opts}
}

// Load installs (or upgrades) the function library. Every consumer does this at start, so a
// new version of the code replaces the old function without a separate migration step.
func (s *Store) Load(ctx context.Context) error {
	return s.client.Do(ctx, s.client.B().FunctionLoad().Replace().FunctionCode(LibraryCode).Build()).Error()
}

// Args encodes a batch as the function's ARGV (pure; see blackfriday.lua for the layout).
func (o Options) Args(sales []Sale) []string {
	window := o.DedupWindow
	if window < 5*time.Second {
		window = DefaultDedupWindow
	}
	args := make([]string, 0, 4+7*len(sales))
	args = append(args, strconv.FormatInt(int64(o.TTL/time.Second), 10), strconv.Itoa(o.SeriesMaxLen), o.SeriesCategory,
		strconv.FormatInt(int64(window/time.Second), 10))
	for _, s := range sales {
		args = append(args,
			strconv.FormatInt(int64(s.Partition), 10),
			strconv.FormatInt(s.Offset, 10),
			s.SaleID,
			s.Categoria,
			s.ProductoID,
			// Shortest text that parses back to the same float64, so 129.99 is stored as "129.99".
			strconv.FormatFloat(s.Precio, 'g', -1, 64),
			strconv.FormatInt(int64(s.Cantidad), 10),
		)
	}
	return args
}

// Apply runs one batch atomically. An error means nothing of the batch was applied (a function
// call is all-or-nothing unless Valkey itself dies mid-script), so the caller retries it whole.
func (s *Store) Apply(ctx context.Context, sales []Sale) (Result, error) {
	if len(sales) == 0 {
		return Result{}, nil
	}
	args := s.opts.Args(sales)
	call := func() ([]int64, error) {
		cmd := s.client.B().Fcall().Function(FunctionName).Numkeys(1).Key(OffsetsKey(s.opts.Topic)).Arg(args...).Build()
		return s.client.Do(ctx, cmd).AsIntSlice()
	}
	vals, err := call()
	if err != nil && strings.Contains(err.Error(), "Function not found") {
		// Valkey lost its functions (restarted without persistence, FUNCTION FLUSH, a new
		// primary that never got them): load the library again and retry once.
		if lerr := s.Load(ctx); lerr != nil {
			return Result{}, fmt.Errorf("%w; reloading the library: %v", err, lerr)
		}
		vals, err = call()
	}
	if err != nil {
		return Result{}, err
	}
	if len(vals) != 3 {
		return Result{}, fmt.Errorf("%s returned %v", FunctionName, vals)
	}
	return Result{Applied: vals[0], Skipped: vals[1], Duplicates: vals[2]}, nil
}

// Offsets returns the next offset per partition that Valkey holds for the topic.
func (s *Store) Offsets(ctx context.Context) (map[int32]int64, error) {
	m, err := s.client.Do(ctx, s.client.B().Hgetall().Key(OffsetsKey(s.opts.Topic)).Build()).AsStrMap()
	if err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(m))
	for k, v := range m {
		p, err1 := strconv.ParseInt(k, 10, 32)
		o, err2 := strconv.ParseInt(v, 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad offset entry %q=%q", k, v)
		}
		out[int32(p)] = o
	}
	return out, nil
}

// CountedSales reads the dedup set: every sale id counted within the window, with the categoria
// it was counted under (checks and tests; SCANs the bucket hashes).
func CountedSales(ctx context.Context, c valkey.Client) (map[string]string, error) {
	keys, err := scanKeys(ctx, c, KeySalesPrefix+"*")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range keys {
		m, err := c.Do(ctx, c.B().Hgetall().Key(k).Build()).AsStrMap()
		if err != nil {
			return nil, err
		}
		for id, cat := range m {
			out[id] = cat
		}
	}
	return out, nil
}
