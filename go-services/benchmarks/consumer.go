package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/valkey-io/valkey-go"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/consumer"
	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	"github.com/blackfriday-operator/go-services/internal/testenv"
	"github.com/blackfriday-operator/go-services/internal/valkeyproc"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// Persistence settings of the private valkey-server: the deployed one (append-only file, fsync
// every second, like the bench and the VMs) and none (P4's comparison).
var (
	aofEverysec = []string{"--appendonly", "yes", "--appendfsync", "everysec"}
	aofOff      = []string{"--appendonly", "no", "--save", ""}
)

// startValkey runs a private valkey-server with the given persistence settings and returns a
// client and a stop func that also removes its files. withReplica adds a second server, with
// the same persistence, replicating from the first (the pipeline's default topology: a primary
// VM and a replica VM, both append-only), and returns once the replica is in sync: a primary
// with a replica propagates every write to it whether or not it keeps an AOF.
func startValkey(bin string, persistence []string, withReplica bool) (valkey.Client, func(), error) {
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	start := func(extra ...string) (*valkeyproc.Server, error) {
		dir, err := os.MkdirTemp("", "bench-valkey")
		if err != nil {
			return nil, err
		}
		srv, err := valkeyproc.Start(bin, dir, append(append([]string{}, persistence...), extra...)...)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		stops = append(stops, func() { srv.Stop(); os.RemoveAll(dir) })
		return srv, nil
	}
	primary, err := start()
	if err != nil {
		return nil, nil, err
	}
	c, err := valkeyproc.Connect(primary.Addr, 0, 5*time.Second)
	if err != nil {
		stop()
		return nil, nil, err
	}
	stops = append(stops, c.Close)
	if withReplica {
		host, port, _ := strings.Cut(primary.Addr, ":")
		if _, err := start("--replicaof", host, port); err != nil {
			stop()
			return nil, nil, err
		}
		if err := waitReplicaOnline(c, 10*time.Second); err != nil {
			stop()
			return nil, nil, err
		}
	}
	return c, stop, nil
}

// waitReplicaOnline waits until the primary lists a replica in state online (full sync done).
func waitReplicaOnline(c valkey.Client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		info, _ := c.Do(context.Background(), c.B().Info().Section("replication").Build()).ToString()
		if strings.Contains(info, "state=online") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the replica did not come online in %v: %s", timeout, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverCommands sums the calls of every command Valkey has executed (INFO commandstats),
// commands run inside the function included.
func serverCommands(c valkey.Client) int64 {
	info, _ := c.Do(context.Background(), c.B().Info().Section("commandstats").Build()).ToString()
	var n int64
	for _, line := range strings.Split(info, "\n") {
		if i := strings.Index(line, "calls="); strings.HasPrefix(line, "cmdstat_") && i > 0 {
			v := line[i+len("calls="):]
			v = v[:strings.IndexByte(v, ',')]
			x, _ := strconv.ParseInt(v, 10, 64)
			n += x
		}
	}
	return n
}

type consumerResult struct {
	name           string
	sales          int64
	elapsed        time.Duration
	clientCommands int64
	serverCommands int64
	extrapolated   bool
}

func (r consumerResult) rate() float64 { return float64(r.sales) / r.elapsed.Seconds() }

// countingStore counts the function calls (client commands) of the real consumer.
type countingStore struct {
	*aggregates.Store
	calls, applied atomic.Int64
	busy           atomic.Int64 // nanoseconds inside Apply
	first          atomic.Int64 // unix nanos when the first batch arrived
}

func (c *countingStore) Apply(ctx context.Context, s []aggregates.Sale) (aggregates.Result, error) {
	t0 := time.Now()
	c.first.CompareAndSwap(0, t0.UnixNano())
	c.calls.Add(1)
	r, err := c.Store.Apply(ctx, s)
	c.applied.Add(r.Applied)
	c.busy.Add(int64(time.Since(t0)))
	return r, err
}

func benchConsumers(brokers []string, valkeyServer string, partitions int32, n int, naiveLimit time.Duration, featured string) error {
	if valkeyServer == "" {
		return fmt.Errorf("no valkey-server binary (-valkey-server or VALKEY_SERVER)")
	}
	topic, drop, err := newTopic(brokers, "bench-consumer", partitions)
	if err != nil {
		return err
	}
	defer drop()
	sales := testenv.Sales(n, 250, 5)
	t0 := time.Now()
	if err := prefill(brokers, topic, sales); err != nil {
		return err
	}
	series := "price streams for every product"
	if featured != "" {
		series = "price streams for the featured category " + featured + ", as deployed"
	}
	fmt.Printf("== consumer: drain a pre-filled topic of %d sales (%d partitions, 1000 products, %s) into Valkey (prefill took %v)\n",
		n, partitions, series, time.Since(t0).Round(time.Millisecond))

	// the real consumer
	fast, diffs, err := runConsumer(brokers, topic, valkeyServer, aofEverysec, false, sales, featured, true)
	if err != nil {
		return err
	}

	// the naive consumer
	vk, stopVK, err := startValkey(valkeyServer, aofEverysec, false)
	if err != nil {
		return err
	}
	defer stopVK()
	before := serverCommands(vk)
	naive, err := runNaive(brokers, topic, vk, n, naiveLimit, featured)
	if err != nil {
		return err
	}
	naive.serverCommands = serverCommands(vk) - before - 1

	for _, r := range []consumerResult{fast, naive} {
		note := ""
		if r.extrapolated {
			note = fmt.Sprintf(" (stopped after %d sales; drain time extrapolated)", r.sales)
		}
		drain := time.Duration(float64(n) / r.rate() * float64(time.Second))
		fmt.Printf("  %-52s drain %-10v %9.0f sales/s  client commands/sale %.4f  server commands/sale %.2f%s\n",
			r.name, drain.Round(time.Millisecond), r.rate(),
			float64(r.clientCommands)/float64(r.sales), float64(r.serverCommands)/float64(r.sales), note)
	}
	fmt.Printf("  RATIO consumer / naive consumer: %.1fx (target >= 20x)\n", fast.rate()/naive.rate())
	if len(diffs) > 0 {
		return fmt.Errorf("the consumer's Valkey content differs from the model: %v", diffs[:min(5, len(diffs))])
	}
	fmt.Printf("  check: every dashboard key of the consumer's Valkey equals the model of the %d sales\n", n)
	return nil
}

// prefill produces the sales into the topic as the writer does (producer.Record: keyed by
// product, each with its own sale id, so the consumer's dedup lookups run as deployed).
func prefill(brokers []string, topic string, sales []*pb.ProductSaleRequest) error {
	pcl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer pcl.Close()
	for _, s := range sales {
		r, err := producer.Record(s, saleid.New(), "bench", time.Now())
		if err != nil {
			return err
		}
		pcl.Produce(context.Background(), r, nil)
	}
	return pcl.Flush(context.Background())
}

// benchAOF is P4: the real consumer draining the same pre-filled topic into a Valkey with AOF
// everysec (as deployed) and into one without persistence, alternating which goes first each
// round; prints each round and the median (min–max) of the ratio within a round. withReplica:
// each Valkey has a replica with the same persistence (the default deployment: two VMs).
func benchAOF(brokers []string, valkeyServer string, partitions int32, n, rounds int, featured string, withReplica bool) error {
	if valkeyServer == "" {
		return fmt.Errorf("no valkey-server binary (-valkey-server or VALKEY_SERVER)")
	}
	topic, drop, err := newTopic(brokers, "bench-aof", partitions)
	if err != nil {
		return err
	}
	defer drop()
	sales := testenv.Sales(n, 250, 5)
	if err := prefill(brokers, topic, sales); err != nil {
		return err
	}
	topology := "a primary alone"
	if withReplica {
		topology = "a primary and its replica, both with the setting (the default deployment)"
	}
	fmt.Printf("== P4 consumer with Valkey AOF everysec vs AOF off (%s): drain %d pre-filled sales, %d rounds, order alternating\n", topology, n, rounds)
	settings := []struct {
		name string
		args []string
	}{{"AOF everysec (deployed)", aofEverysec}, {"AOF off, no RDB", aofOff}}
	rates := make([][]float64, len(settings))
	for round := range rounds {
		for k := range settings {
			i := (k + round) % len(settings)
			r, diffs, err := runConsumer(brokers, topic, valkeyServer, settings[i].args, withReplica, sales, featured, false)
			if err != nil {
				return err
			}
			if len(diffs) > 0 {
				return fmt.Errorf("%s: Valkey content differs from the model: %v", settings[i].name, diffs[:min(5, len(diffs))])
			}
			rates[i] = append(rates[i], r.rate())
			fmt.Printf("  round %d  %-26s drain %-10v %9.0f sales/s\n", round+1, settings[i].name, r.elapsed.Round(time.Millisecond), r.rate())
		}
	}
	ratios := make([]float64, rounds)
	for i := range ratios {
		ratios[i] = rates[0][i] / rates[1][i]
	}
	for i, st := range settings {
		fmt.Printf("  %-26s %s sales/s, median (min–max)\n", st.name, medianRange(rates[i], "%.0f"))
	}
	fmt.Printf("  RATIO AOF everysec / AOF off: %sx (goal >= 0.95x); every run's Valkey equals the model of the %d sales\n", medianRange(ratios, "%.2f"), n)
	return nil
}

// runConsumer drains the whole topic with the real consumer (a fresh group) into a fresh private
// Valkey with the given persistence, and returns the result and how the Valkey content differs
// from the model of the sales.
func runConsumer(brokers []string, topic, valkeyServer string, persistence []string, withReplica bool, sales []*pb.ProductSaleRequest, featured string, verbose bool) (consumerResult, []string, error) {
	n := len(sales)
	vk, stopVK, err := startValkey(valkeyServer, persistence, withReplica)
	if err != nil {
		return consumerResult{}, nil, err
	}
	defer stopVK()
	opts := aggregates.Options{Topic: topic, SeriesCategory: featured}
	store := &countingStore{Store: aggregates.NewStore(vk, opts)}
	if err := store.Load(context.Background()); err != nil {
		return consumerResult{}, nil, err
	}
	before := serverCommands(vk)
	c, err := consumer.New(consumer.Config{Brokers: brokers, Topic: topic, Group: fmt.Sprintf("bench-fast-%d", time.Now().UnixNano()), MaxBatch: 5000}, store)
	if err != nil {
		return consumerResult{}, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- c.Run(ctx) }()
	for store.applied.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	r := consumerResult{name: "consumer (1 FCALL per batch, max 5000 records)", sales: int64(n), elapsed: time.Since(start), clientCommands: store.calls.Load()}
	if verbose {
		fmt.Printf("  (consumer: group join and first fetch %v, Valkey function time %v of the drain)\n",
			time.Unix(0, store.first.Load()).Sub(start).Round(time.Millisecond), time.Duration(store.busy.Load()).Round(time.Millisecond))
	}
	cancel()
	<-done
	r.serverCommands = serverCommands(vk) - before - 1
	got, err := aggregates.Read(context.Background(), vk)
	if err != nil {
		return consumerResult{}, nil, err
	}
	return r, aggregates.Diff(aggregates.Expect(testenv.AsAggregates(sales), opts), got), nil
}

// runNaive is the peers' consumer (docs/research/peers.md §1, J): auto-committing group
// consumer, one Valkey command per field per message, each a round trip, min/max as
// read-then-write.
func runNaive(brokers []string, topic string, vk valkey.Client, n int, limit time.Duration, featured string) (consumerResult, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(fmt.Sprintf("bench-naive-%d", time.Now().UnixNano())),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return consumerResult{}, err
	}
	defer cl.Close()
	ctx := context.Background()
	r := consumerResult{name: "naive (one command per field per message)"}
	do := func(cmd valkey.Completed) valkey.ValkeyResult {
		r.clientCommands++
		return vk.Do(ctx, cmd)
	}
	start := time.Now()
	deadline := start.Add(limit)
	for r.sales < int64(n) {
		if time.Now().After(deadline) {
			r.extrapolated = true
			break
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		var stop bool
		fetches.EachRecord(func(rec *kgo.Record) {
			if stop {
				return
			}
			s := consumer.Decode(rec)
			cat, id := s.Categoria, s.ProductoID
			p := strconv.FormatFloat(s.Precio, 'g', -1, 64)
			u := int64(s.Cantidad)
			reports, _ := do(vk.B().Hincrby().Key(aggregates.KeyReports).Field(cat).Increment(1).Build()).AsInt64()
			units, _ := do(vk.B().Hincrby().Key(aggregates.KeyUnits).Field(cat).Increment(u).Build()).AsInt64()
			sum, _ := do(vk.B().Hincrbyfloat().Key(aggregates.KeyPriceSum).Field(cat).Increment(s.Precio).Build()).AsFloat64()
			do(vk.B().Hset().Key(aggregates.KeyAvgUnits).FieldValue().FieldValue(cat, strconv.FormatFloat(float64(units)/float64(reports), 'f', 6, 64)).Build())
			do(vk.B().Hset().Key(aggregates.KeyAvgPrice).FieldValue().FieldValue(cat, strconv.FormatFloat(sum/float64(reports), 'f', 6, 64)).Build())
			if cur, err := do(vk.B().Hget().Key(aggregates.KeyPriceMax).Field("precio").Build()).AsFloat64(); err != nil || s.Precio > cur {
				do(vk.B().Hset().Key(aggregates.KeyPriceMax).FieldValue().FieldValue("precio", p).FieldValue("producto_id", id).FieldValue("categoria", cat).Build())
			}
			if cur, err := do(vk.B().Hget().Key(aggregates.KeyPriceMin).Field("precio").Build()).AsFloat64(); err != nil || s.Precio < cur {
				do(vk.B().Hset().Key(aggregates.KeyPriceMin).FieldValue().FieldValue("precio", p).FieldValue("producto_id", id).FieldValue("categoria", cat).Build())
			}
			do(vk.B().Zincrby().Key(aggregates.KeyProductUnits).Increment(float64(u)).Member(id).Build())
			do(vk.B().Expire().Key(aggregates.KeyProductUnits).Seconds(7 * 86400).Build())
			do(vk.B().Zincrby().Key(aggregates.CategoryProductUnitsKey(cat)).Increment(float64(u)).Member(id).Build())
			do(vk.B().Expire().Key(aggregates.CategoryProductUnitsKey(cat)).Seconds(7 * 86400).Build())
			if featured == "" || featured == cat {
				do(vk.B().Xadd().Key(aggregates.SeriesKey(id)).Maxlen().Almost().Threshold("1000").Id("*").FieldValue().FieldValue("precio", p).FieldValue("cantidad_vendida", strconv.FormatInt(u, 10)).Build())
				do(vk.B().Expire().Key(aggregates.SeriesKey(id)).Seconds(7 * 86400).Build())
			}
			r.sales++
			if r.sales >= int64(n) || time.Now().After(deadline) {
				stop = true
			}
		})
	}
	r.elapsed = time.Since(start)
	return r, nil
}
