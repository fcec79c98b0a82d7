package main

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/blackfriday-operator/go-services/internal/producer"
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

// syncPerCallWriter is a middle ground: franz-go with default settings, ProduceSync of one
// record per RPC. franz-go still batches concurrent calls, so this shows where the gain comes
// from (batching across calls), not from a different library.
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
	name          string
	ok, failed    int64
	elapsed       time.Duration
	p50, p99, max time.Duration
}

func (r writerResult) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// drive serves srv on loopback and calls it from `concurrency` goroutines over one connection
// for `duration`, counting acknowledged calls.
func drive(name string, srv pb.ProductSaleServiceServer, concurrency int, duration time.Duration) (writerResult, error) {
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

	// warm-up: connections, metadata, producer id
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		client.ProcesarVenta(ctx, sales[i])
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
	r := writerResult{name: name, ok: ok.Load(), failed: failed.Load(), elapsed: time.Since(start)}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		r.p50, r.p99, r.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return r, nil
}

func benchWriters(brokers []string, partitions int32, concurrency int, duration time.Duration) error {
	fmt.Printf("== writer: acknowledged sales/s through gRPC into Kafka (acks=all), %d concurrent calls, %v each, topic with %d partitions\n",
		concurrency, duration, partitions)
	var results []writerResult

	topic, drop, err := newTopic(brokers, "bench-writer", partitions)
	if err != nil {
		return err
	}
	defer drop()
	cl, err := producer.NewClient(producer.Config{Brokers: brokers, Topic: topic, Linger: 2 * time.Millisecond, DeliveryTimeout: 10 * time.Second, MaxBufferedRecords: 10000})
	if err != nil {
		return err
	}
	r, err := drive("grpc-server (franz-go, Produce+promise, idempotent, linger 2ms)", &writer.Server{Producer: cl, Name: "bench", MaxWait: 15 * time.Second}, concurrency, duration)
	cl.Close()
	if err != nil {
		return err
	}
	results = append(results, r)

	cl, err = kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	r, err = drive("franz-go defaults, ProduceSync one record per call", &syncPerCallWriter{cl: cl}, concurrency, duration)
	cl.Close()
	if err != nil {
		return err
	}
	results = append(results, r)

	kw := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, RequiredAcks: kafkago.RequireAll}
	r, err = drive("naive: kafka-go Writer defaults, sync WriteMessages per call", &naiveWriter{w: kw}, concurrency, duration)
	kw.Close()
	if err != nil {
		return err
	}
	results = append(results, r)

	for _, r := range results {
		fmt.Printf("  %-62s %9.0f sales/s  ok %-8d failed %-4d p50 %-9v p99 %-9v max %v\n",
			r.name, r.rate(), r.ok, r.failed, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(time.Millisecond))
	}
	fmt.Printf("  RATIO writer / naive writer: %.1fx (target >= 20x); writer / franz-go sync-per-call: %.2fx\n",
		results[0].rate()/results[2].rate(), results[0].rate()/results[1].rate())
	return nil
}
