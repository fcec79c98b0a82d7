package forward_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/blackfriday-operator/go-services/internal/forward"
	"github.com/blackfriday-operator/go-services/internal/routing"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// countingWriter is a writer stand-in that counts calls and remembers sale ids.
type countingWriter struct {
	pb.UnimplementedProductSaleServiceServer
	mu    sync.Mutex
	calls int
	ids   []string
}

func (w *countingWriter) ProcesarVenta(ctx context.Context, _ *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	w.ids = append(w.ids, md.Get("x-sale-id")...)
	return &pb.ProductSaleResponse{Estado: "ok"}, nil
}

func (w *countingWriter) count() int { w.mu.Lock(); defer w.mu.Unlock(); return w.calls }

func startWriter(t *testing.T, ip string) (*countingWriter, string) {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	w := &countingWriter{}
	s := grpc.NewServer()
	pb.RegisterProductSaleServiceServer(s, w)
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	return w, ln.Addr().String()
}

var sale = &pb.ProductSaleRequest{Categoria: 1, ProductoId: "E-1", Precio: 1, CantidadVendida: 1}

// newTiers is forward.New for a test: the tiers are closed when the test ends.
func newTiers(t *testing.T, policy routing.Policy, targets [2]string) *forward.Tiers {
	t.Helper()
	tiers, err := forward.New(policy, targets)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tiers.Close)
	return tiers
}

func forwardN(t *testing.T, tiers *forward.Tiers, n int) {
	t.Helper()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := tiers.Forward(ctx, "id-"+string(rune('a'+i%26)), sale)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Two writer pods behind one tier name (two loopback addresses): round_robin gives both of
// them calls, evenly, over one ClientConn.
func TestBothPodsOfATierGetCalls(t *testing.T) {
	a, addrA := startWriter(t, "127.0.0.1")
	b, addrB := startWriter(t, "127.0.0.2")
	policy, _ := routing.ParsePolicy("grpc-server-2", 0, 0)
	tiers := newTiers(t, policy, [2]string{"", addrA + "," + addrB})
	// round_robin starts picking as soon as one subchannel is READY; wait for both so the
	// split below is exact.
	deadline := time.Now().Add(5 * time.Second)
	for (a.count() == 0 || b.count() == 0) && time.Now().Before(deadline) {
		forwardN(t, tiers, 10)
	}
	if a.count() == 0 || b.count() == 0 {
		t.Fatalf("calls: %s=%d %s=%d", addrA, a.count(), addrB, b.count())
	}
	a0, b0 := a.count(), b.count()
	forwardN(t, tiers, 100)
	if da, db := a.count()-a0, b.count()-b0; da != 50 || db != 50 {
		t.Errorf("after both were ready: %d / %d, want 50 / 50", da, db)
	}
	if len(a.ids) == 0 || a.ids[0] == "" {
		t.Errorf("x-sale-id metadata missing")
	}
}

func TestRoutingPolicyBetweenTiers(t *testing.T) {
	w1, addr1 := startWriter(t, "127.0.0.1")
	w2, addr2 := startWriter(t, "127.0.0.1")
	policy, _ := routing.ParsePolicy("both", 1, 3)
	tiers := newTiers(t, policy, [2]string{addr1, addr2})
	forwardN(t, tiers, 400)
	if w1.count() != 100 || w2.count() != 300 {
		t.Fatalf("tier1=%d tier2=%d, want 100/300", w1.count(), w2.count())
	}
	// a policy that names one tier needs no target for the other
	if _, err := forward.New(routing.Policy{Weight1: 1}, [2]string{addr1, ""}); err != nil {
		t.Fatal(err)
	}
	if _, err := forward.New(routing.Policy{Weight1: 1, Weight2: 1}, [2]string{addr1, ""}); err == nil {
		t.Fatal("empty target of a used tier accepted")
	}
}

func TestTargetForms(t *testing.T) {
	for in, want := range map[string]string{
		"grpc-server-2.ingest:50051":    "dns:///grpc-server-2.ingest:50051",
		"dns:///x:1":                    "dns:///x:1",
		"127.0.0.1:1,127.0.0.1:2":       "static-tier2:///grpc-server-2",
		" 127.0.0.1:1 , 127.0.0.1:2 , ": "static-tier2:///grpc-server-2",
	} {
		if got, _ := forward.Target(2, in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

// grpc-client's --sink (scripts/benchmarks/pipeline only) answers like a writer without calling one.
func TestSinkAnswersWithoutAWriter(t *testing.T) {
	resp, err := forward.Sink{}.Forward(context.Background(), "k-1", nil)
	if err != nil || resp.GetEstado() == "" {
		t.Fatalf("%v %v", resp, err)
	}
}

// WaitReady waits for a tier whose writer is not listening yet and returns once it is; with no
// writer at all it returns the context's error (grpc-client stays not ready).
func TestWaitReadyWaitsForEveryUsedTier(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	late := ln.Addr().String()
	ln.Close() // nothing listens there until the writer starts below
	_, early := startWriter(t, "127.0.0.1")
	policy, _ := routing.ParsePolicy("both", 1, 1)
	tiers := newTiers(t, policy, [2]string{early, late})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := tiers.WaitReady(ctx); err == nil {
		t.Fatal("WaitReady returned while tier 2's writer was not listening")
	}

	ln2, err := net.Listen("tcp", late)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	s := grpc.NewServer()
	pb.RegisterProductSaleServiceServer(s, &countingWriter{})
	go s.Serve(ln2)
	defer s.Stop()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := tiers.WaitReady(ctx2); err != nil {
		t.Fatalf("WaitReady after the writer started: %v", err)
	}
	forwardN(t, tiers, 4) // and both tiers take calls
}
