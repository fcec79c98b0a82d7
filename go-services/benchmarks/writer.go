package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	"github.com/blackfriday-operator/go-services/internal/testenv"
	"github.com/blackfriday-operator/go-services/internal/writer"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// naiveWriter is the pattern peers shipped (docs/research/peers.md §3): one synchronous
// kafka-go WriteMessages per RPC with the Writer's default batching (BatchSize 100,
// BatchTimeout 1 s). Only RequiredAcks is changed from its default (none) to all, so both
// writers promise the same durability.
type naiveWriter struct {
	pb.UnimplementedProductSaleServiceServer
	w *kafkago.Writer
}

func (n *naiveWriter) ProcesarVenta(ctx context.Context, req *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	rec, _ := producer.Record(req, "id", "naive", time.Now())
	if err := n.w.WriteMessages(ctx, kafkago.Message{Key: rec.Key, Value: rec.Value}); err != nil {
		return nil, err
	}
	return &pb.ProductSaleResponse{Estado: "ok"}, nil
}

// syncPerCallWriter is the fair baseline: franz-go with the library's default settings
// (idempotent, acks=all, linger 10 ms that ProduceSync cancels for its own records), one
// ProduceSync per RPC. franz-go batches the records of concurrent calls that arrive while a
// request is in flight, so this is what the library gives for free.
type syncPerCallWriter struct {
	pb.UnimplementedProductSaleServiceServer
	cl *kgo.Client
}

func (s *syncPerCallWriter) ProcesarVenta(ctx context.Context, req *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	rec, _ := producer.Record(req, "id", "sync", time.Now())
	if err := s.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return nil, err
	}
	return &pb.ProductSaleResponse{Estado: "ok"}, nil
}

type writerResult struct {
	ok, failed    int64
	elapsed       time.Duration
	p50, p99, max time.Duration
}

func (r writerResult) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// writerVariant is one row of the benchmark: how to build its server and what it stands for.
type writerVariant struct {
	name, role string
	// open returns a fresh server (its own Kafka client) and the func that closes it.
	open    func() (pb.ProductSaleServiceServer, func(), error)
	results []writerResult
}

// drive serves srv on loopback and calls it from `concurrency` goroutines over one connection
// for `duration`, counting acknowledged calls. Every call carries its sale id in the x-sale-id
// metadata, as grpc-client sends it.
func drive(srv pb.ProductSaleServiceServer, concurrency int, duration time.Duration, round int) (writerResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return writerResult{}, err
	}
	g := grpc.NewServer()
	pb.RegisterProductSaleServiceServer(g, srv)
	go g.Serve(ln)
	defer g.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return writerResult{}, err
	}
	defer conn.Close()
	client := pb.NewProductSaleServiceClient(conn)
	sales := testenv.Sales(10000, 50, 99)
	idPrefix := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(round) + "-"

	// warm-up: connections, metadata, producer id
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		client.ProcesarVenta(saleid.ToOutgoingGRPC(ctx, idPrefix+"w"+strconv.Itoa(i)), sales[i])
		cancel()
	}
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	stop := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := w; time.Now().Before(stop); i += concurrency {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				ctx = saleid.ToOutgoingGRPC(ctx, idPrefix+strconv.Itoa(i))
				t0 := time.Now()
				_, err := client.ProcesarVenta(ctx, sales[i%len(sales)])
				cancel()
				if err != nil {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := writerResult{ok: ok.Load(), failed: failed.Load(), elapsed: time.Since(start)}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		r.p50, r.p99, r.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return r, nil
}

// writerVariants are the rows: the writer as cmd/grpc-server runs it (its defaults), any extra
// lingers asked for, the fair baseline and the naive baseline.
func writerVariants(brokers []string, topic string, lanes int, extraLingers []time.Duration) []*writerVariant {
	franzWriter := func(linger time.Duration, lanes int) func() (pb.ProductSaleServiceServer, func(), error) {
		return func() (pb.ProductSaleServiceServer, func(), error) {
			cl, err := producer.NewClient(producer.Config{Brokers: brokers, Topic: topic, Linger: linger,
				DeliveryTimeout: producer.DefaultDeliveryTimeout, MaxBufferedRecords: producer.DefaultMaxBufferedRecords})
			if err != nil {
				return nil, nil, err
			}
			return &writer.Server{Producer: cl, Name: "bench", MaxWait: 2*producer.DefaultDeliveryTimeout + 5*time.Second, Lanes: lanes}, cl.Close, nil
		}
	}
	vs := []*writerVariant{{
		name: fmt.Sprintf("grpc-server (batches in %d lanes, linger %v)", lanes, producer.DefaultLinger),
		role: "the writer", open: franzWriter(producer.DefaultLinger, lanes),
	}}
	for _, l := range extraLingers {
		vs = append(vs, &writerVariant{name: fmt.Sprintf("writer variant: Produce per call, linger %v", l), role: "writer variant", open: franzWriter(l, 0)})
	}
	vs = append(vs, &writerVariant{
		name: "franz-go defaults, ProduceSync one record per call", role: "fair baseline",
		open: func() (pb.ProductSaleServiceServer, func(), error) {
			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
			if err != nil {
				return nil, nil, err
			}
			return &syncPerCallWriter{cl: cl}, cl.Close, nil
		},
	}, &writerVariant{
		name: "naive: kafka-go Writer defaults, sync WriteMessages per call", role: "naive baseline (peers)",
		open: func() (pb.ProductSaleServiceServer, func(), error) {
			kw := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, RequiredAcks: kafkago.RequireAll}
			return &naiveWriter{w: kw}, func() { kw.Close() }, nil
		},
	})
	return vs
}

// benchWriters runs every variant `rounds` times, rotating the order each round (so none always
// runs first on a cold broker or right after a heavy neighbour), and prints each round, then
// median and min–max per variant and of the ratios taken within each round.
func benchWriters(brokers []string, partitions int32, concurrency int, duration time.Duration, rounds, lanes int, extraLingers []time.Duration) error {
	fmt.Printf("== writer: acknowledged sales/s through gRPC into Kafka (acks=all), %d rounds in rotated order, %d concurrent calls, %v each, topic with %d partitions\n",
		rounds, concurrency, duration, partitions)
	topic, drop, err := newTopic(brokers, "bench-writer", partitions)
	if err != nil {
		return err
	}
	defer drop()
	vs := writerVariants(brokers, topic, lanes, extraLingers)
	run := func(v *writerVariant, d time.Duration, round int) (writerResult, error) {
		srv, closeFn, err := v.open()
		if err != nil {
			return writerResult{}, err
		}
		defer closeFn()
		return drive(srv, concurrency, d, round)
	}
	// warm the broker's JIT and page cache with the franz-go variants before anything counts
	for _, v := range vs[:len(vs)-1] {
		if _, err := run(v, 2*time.Second, -1); err != nil {
			return err
		}
	}
	for round := range rounds {
		for k := range vs {
			v := vs[(k+round)%len(vs)]
			r, err := run(v, duration, round)
			if err != nil {
				return err
			}
			v.results = append(v.results, r)
			fmt.Printf("  round %d  %-58s %8.0f sales/s  failed %-4d p50 %-9v p99 %-9v max %v\n", round+1, v.name, r.rate(), r.failed,
				r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(time.Millisecond))
		}
	}
	// One line per row in the single-run form tools/report/bench_go_json.py reads (median
	// figures, totals of ok and failed), the role and the spread after it.
	fmt.Printf("  summary over %d rounds: median sales/s, p50 and p99; ok, failed and max over all rounds; then (min–max) over the rounds\n", rounds)
	for _, v := range vs {
		rate := func(r writerResult) float64 { return r.rate() }
		p50 := func(r writerResult) float64 { return ms(r.p50) }
		p99 := func(r writerResult) float64 { return ms(r.p99) }
		fmt.Printf("  %-58s %8.0f sales/s  ok %-8d failed %-4d p50 %-9v p99 %-9v max %-8v  %s: sales/s (%s), p50 ms (%s), p99 ms (%s)\n",
			v.name, median(v.results, rate), sum(v.results, func(r writerResult) int64 { return r.ok }),
			sum(v.results, func(r writerResult) int64 { return r.failed }),
			msDuration(median(v.results, p50)), msDuration(median(v.results, p99)), maxLatency(v.results),
			v.role, minMax(v.results, rate, "%.0f"), minMax(v.results, p50, "%.1f"), minMax(v.results, p99, "%.1f"))
	}
	writerRow, fair, naive := vs[0], vs[len(vs)-2], vs[len(vs)-1]
	fmt.Printf("  RATIO writer / fair baseline (franz-go defaults, ProduceSync per call): %sx (goal >= 1.0x, aim 1.2x)\n",
		ratioSpread(writerRow, fair, "%.2f"))
	fmt.Printf("  RATIO writer / naive baseline (kafka-go defaults, the peers' code):     %sx (target >= 20x)\n",
		ratioSpread(writerRow, naive, "%.0f"))
	for _, v := range vs[1 : len(vs)-2] {
		fmt.Printf("  RATIO %s / fair baseline: %sx\n", v.name, ratioSpread(v, fair, "%.2f"))
	}
	return nil
}

// ratioSpread is the median (min–max) of a/b taken round by round (both ran in the same round,
// so the machine's load at that moment largely cancels out).
func ratioSpread(a, b *writerVariant, format string) string {
	rs := make([]float64, len(a.results))
	for i := range rs {
		rs[i] = a.results[i].rate() / b.results[i].rate()
	}
	return medianRange(rs, format)
}

func values(rs []writerResult, f func(writerResult) float64) []float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	slices.Sort(xs)
	return xs
}

func median(rs []writerResult, f func(writerResult) float64) float64 {
	xs := values(rs, f)
	n := len(xs)
	if n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[n/2]
}

func minMax(rs []writerResult, f func(writerResult) float64, format string) string {
	xs := values(rs, f)
	return fmt.Sprintf(format+"–"+format, xs[0], xs[len(xs)-1])
}

func maxLatency(rs []writerResult) time.Duration {
	var m time.Duration
	for _, r := range rs {
		m = max(m, r.max)
	}
	return m.Round(time.Millisecond)
}

func msDuration(x float64) time.Duration {
	return time.Duration(x * float64(time.Millisecond)).Round(10 * time.Microsecond)
}

// medianRange formats "median (min–max)"; the median of an even count is the mean of the two
// middle values.
func medianRange(xs []float64, format string) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return "-"
	}
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", med, s[0], s[n-1])
}

func sum(rs []writerResult, f func(writerResult) int64) int64 {
	var n int64
	for _, r := range rs {
		n += f(r)
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
