package main_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	"github.com/blackfriday-operator/go-services/internal/testenv"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// The writer binary under load gets SIGTERM: it exits 0 within the grace, and the records in
// Kafka are exactly the calls it answered OK (in-flight calls finished and flushed, nothing
// acknowledged is missing, nothing refused was written).
func TestGracefulStopAnswersInFlightCallsAndFlushes(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bin := testenv.Binary(t, "cmd/grpc-server")
	topic := testenv.NewTopic(t, brokers, 3)
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cmd := exec.Command(bin, "--name", "grpc-server-1", "--listen", addr, "--metrics-listen", "127.0.0.1:0",
		"--kafka-brokers", strings.Join(brokers, ","), "--topic", topic, "--shutdown-grace", "15s", "--log-level", "warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "blackfriday.ProductSaleService"})
		cancel()
		if err == nil && resp.Status == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writer never SERVING: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	client := pb.NewProductSaleServiceClient(conn)
	sale := &pb.ProductSaleRequest{Categoria: 2, ProductoId: "ROP-001", Precio: 5, CantidadVendida: 1}
	var mu sync.Mutex
	okIDs := map[string]bool{}
	// SIGTERM goes out once loadedAfter calls were answered OK, so it lands on a loaded writer
	// whatever the machine's speed (no fixed sleep, no throughput floor)
	const loadedAfter = 100
	loaded := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := client.ProcesarVenta(saleid.ToOutgoingGRPC(ctx, id), sale, grpc.WaitForReady(false))
				cancel()
				if err != nil {
					return // the server is draining or gone: this goroutine stops
				}
				mu.Lock()
				okIDs[id] = true
				if len(okIDs) == loadedAfter {
					close(loaded)
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-loaded:
	case <-time.After(60 * time.Second): // a hang guard, not a speed requirement
		t.Fatalf("the writer never answered %d calls OK", loadedAfter)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("writer exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("writer did not stop within the grace period")
	}
	wg.Wait()
	recs := testenv.ReadAll(t, brokers, topic, len(okIDs), 30*time.Second)
	inKafka := map[string]bool{}
	for _, r := range recs {
		inKafka[producer.Header(r, "sale-id")] = true
	}
	for id := range okIDs {
		if !inKafka[id] {
			t.Fatalf("call %s was answered OK but is not in Kafka", id)
		}
	}
	if len(recs) != len(okIDs) {
		t.Fatalf("%d records for %d OK answers", len(recs), len(okIDs))
	}
	t.Logf("%d calls answered OK before/while draining, all %d in Kafka", len(okIDs), len(recs))
}
