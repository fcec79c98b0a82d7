package writer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/blackfriday-operator/go-services/internal/grpcstatus"
	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	"github.com/blackfriday-operator/go-services/internal/testenv"
	"github.com/blackfriday-operator/go-services/internal/writer"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// serve starts a writer on loopback, batching as deployed, and returns a client for it.
func serve(t *testing.T, p writer.Producer, name string) pb.ProductSaleServiceClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterProductSaleServiceServer(srv, &writer.Server{Producer: p, Name: name, MaxWait: 30 * time.Second, Lanes: writer.DefaultLanes})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewProductSaleServiceClient(conn)
}

// fakeProducer answers every record with err (or success at partition 3 offset 7) after delay.
type fakeProducer struct {
	err   error
	delay time.Duration
}

func (f fakeProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	go func() {
		time.Sleep(f.delay)
		r.Partition, r.Offset = 3, 7
		promise(r, f.err)
	}()
}

var goodSale = &pb.ProductSaleRequest{Categoria: pb.CategoriaProducto_Ropa, ProductoId: "ROP-001", Precio: 19.9, CantidadVendida: 2}

func TestOKCarriesPartitionAndOffset(t *testing.T) {
	c := serve(t, fakeProducer{delay: 10 * time.Millisecond}, "grpc-server-1")
	resp, err := c.ProcesarVenta(context.Background(), goodSale)
	if err != nil || resp.Estado != "accepted by grpc-server-1 partition=3 offset=7" {
		t.Fatalf("%v %v", resp, err)
	}
}

func TestKafkaFailureIsUnavailableNeverOK(t *testing.T) {
	c := serve(t, fakeProducer{err: errors.New("NOT_ENOUGH_REPLICAS")}, "w")
	_, err := c.ProcesarVenta(context.Background(), goodSale)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v", err)
	}
}

func TestInvalidSaleIsInvalidArgumentWithFields(t *testing.T) {
	c := serve(t, fakeProducer{}, "w")
	_, err := c.ProcesarVenta(context.Background(), &pb.ProductSaleRequest{Categoria: 0, ProductoId: "X", Precio: 1, CantidadVendida: 0})
	st := status.Convert(err)
	fields := grpcstatus.Fields(st)
	if st.Code() != codes.InvalidArgument || len(fields) != 2 || fields[0].Field != "categoria" || fields[1].Field != "cantidad_vendida" {
		t.Fatalf("%v %v", st, fields)
	}
}

func TestKafkaErrorMapping(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	live := context.Background()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want codes.Code
	}{
		{expired, context.DeadlineExceeded, codes.DeadlineExceeded},
		{expired, fmt.Errorf("wrapped: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{cancelled, context.Canceled, codes.Canceled},
		// another call's deadline failed this record's batch: not written, caller may retry
		{live, context.DeadlineExceeded, codes.Unavailable},
		{live, context.Canceled, codes.Unavailable},
		{live, kgo.ErrClientClosed, codes.Unavailable},
		{live, errors.New("broker gone"), codes.Unavailable},
	} {
		if got := status.Code(writer.KafkaError(c.ctx, c.err)); got != c.want {
			t.Errorf("%v (ctx err %v) → %v, want %v", c.err, c.ctx.Err(), got, c.want)
		}
	}
}

// N concurrent RPCs through a real broker: exactly N records, each with its headers.
func TestConcurrentCallsProduceExactlyNRecords(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := testenv.NewTopic(t, brokers, 3)
	cl, err := producer.NewClient(producer.Config{Brokers: brokers, Topic: topic, Linger: producer.DefaultLinger, DeliveryTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c := serve(t, cl, "grpc-server-2")

	const n = 500
	sales := testenv.Sales(n, 20, 7)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	before := time.Now().Add(-time.Second).UnixMilli()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ctx = saleid.ToOutgoingGRPC(ctx, "sale-"+strconv.Itoa(i))
			if _, err := c.ProcesarVenta(ctx, sales[i]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("call failed: %v", err)
	}

	recs := testenv.ReadAll(t, brokers, topic, n, 30*time.Second)
	if len(recs) != n {
		t.Fatalf("%d records in the topic, want %d", len(recs), n)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		id := producer.Header(r, "sale-id")
		i, err := strconv.Atoi(id[len("sale-"):])
		if err != nil || seen[id] {
			t.Fatalf("bad or duplicate sale-id %q", id)
		}
		seen[id] = true
		var got pb.ProductSaleRequest
		if err := proto.Unmarshal(r.Value, &got); err != nil || !proto.Equal(&got, sales[i]) || string(r.Key) != sales[i].ProductoId {
			t.Fatalf("record %s: key %q value %v", id, r.Key, &got)
		}
		at, err := strconv.ParseInt(producer.Header(r, "accepted-at"), 10, 64)
		if err != nil || at < before || at > time.Now().UnixMilli() {
			t.Fatalf("accepted-at %q", producer.Header(r, "accepted-at"))
		}
		if w := producer.Header(r, "writer"); w != "grpc-server-2" {
			t.Fatalf("writer header %q", w)
		}
	}
}

// A broker that cannot be reached: every call fails with UNAVAILABLE or DEADLINE_EXCEEDED,
// none is answered OK.
func TestUnreachableBrokerNeverAnswersOK(t *testing.T) {
	testenv.KafkaBrokers(t) // same gating as the other broker tests
	dead := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cl, err := producer.NewClient(producer.Config{Brokers: []string{dead}, Topic: "ventas", DeliveryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c := serve(t, cl, "w")
	var wg sync.WaitGroup
	type outcome struct {
		long bool
		code codes.Code
	}
	codesSeen := make(chan outcome, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// half the calls have a deadline shorter than the delivery timeout, half longer
			d := 1 * time.Second
			if i%2 == 0 {
				d = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			_, err := c.ProcesarVenta(ctx, goodSale)
			codesSeen <- outcome{i%2 == 0, status.Code(err)}
		}()
	}
	wg.Wait()
	close(codesSeen)
	count := map[outcome]int{}
	for o := range codesSeen {
		count[o]++
		// short deadlines may expire first; long ones must hear UNAVAILABLE (delivery timeout,
		// or failed with a batch-mate), never their own deadline, and never OK
		if o.code != codes.Unavailable && (o.long || o.code != codes.DeadlineExceeded) {
			t.Errorf("deadline long=%v: got %v", o.long, o.code)
		}
	}
	t.Logf("codes: %v", count)
}

// The sale id from x-sale-id becomes the record's sale-id header (the consumer dedups by it); an
// id breaking the key rule is refused naming the metadata key, never written.
func TestSaleIDMetadataIsCheckedAndCarried(t *testing.T) {
	var got []*kgo.Record
	var mu sync.Mutex
	p := recordingProducer(func(r *kgo.Record) { mu.Lock(); got = append(got, r); mu.Unlock() })
	c := serve(t, p, "w")
	if _, err := c.ProcesarVenta(saleid.ToOutgoingGRPC(context.Background(), "order-9:a"), goodSale); err != nil {
		t.Fatal(err)
	}
	_, err := c.ProcesarVenta(saleid.ToOutgoingGRPC(context.Background(), "has space"), goodSale)
	fields := grpcstatus.Fields(status.Convert(err))
	if status.Code(err) != codes.InvalidArgument || len(fields) != 1 || fields[0].Field != saleid.GRPCKey {
		t.Fatalf("bad id: %v %v", err, fields)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || producer.Header(got[0], producer.HeaderSaleID) != "order-9:a" {
		t.Fatalf("records %v", got)
	}
}

type recordingProducer func(*kgo.Record)

func (f recordingProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	f(r)
	promise(r, nil)
}

// The writer's --sink (scripts/benchmarks/pipeline only): calls are answered OK through the same
// validation and batching, with no Kafka; a bad sale is still refused.
func TestSinkProducerAcknowledgesWithoutKafka(t *testing.T) {
	c := serve(t, writer.SinkProducer{}, "grpc-server-2")
	for i := 0; i < 20; i++ {
		resp, err := c.ProcesarVenta(context.Background(), goodSale)
		if err != nil || !strings.HasPrefix(resp.Estado, "accepted by grpc-server-2") {
			t.Fatalf("%v %v", resp, err)
		}
	}
	_, err := c.ProcesarVenta(context.Background(), &pb.ProductSaleRequest{Categoria: 0, ProductoId: "X", Precio: 1, CantidadVendida: 1})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a bad sale through the sink: %v", err)
	}
}
