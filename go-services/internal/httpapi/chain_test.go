package httpapi_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/blackfriday-operator/go-services/internal/forward"
	"github.com/blackfriday-operator/go-services/internal/httpapi"
	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/routing"
	"github.com/blackfriday-operator/go-services/internal/testenv"
	"github.com/blackfriday-operator/go-services/internal/writer"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// The whole ingest chain on loopback: HTTP → grpc-client handler → both writer tiers → the
// bench broker. Every 200 is a record in the topic carrying the HTTP X-Sale-Id as sale-id.
func TestHTTPToKafkaThroughBothTiers(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := testenv.NewTopic(t, brokers, 3)
	var addrs [2]string
	for i, name := range []string{"grpc-server-1", "grpc-server-2"} {
		cl, err := producer.NewClient(producer.Config{Brokers: brokers, Topic: topic, Linger: 2 * time.Millisecond, DeliveryTimeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer()
		pb.RegisterProductSaleServiceServer(srv, &writer.Server{Producer: cl, Name: name, MaxWait: 30 * time.Second})
		go srv.Serve(ln)
		t.Cleanup(srv.Stop)
		addrs[i] = ln.Addr().String()
	}
	policy, _ := routing.ParsePolicy("both", 1, 1)
	tiers, err := forward.New(policy, addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer tiers.Close()
	api := httptest.NewServer(&httpapi.Handler{Forwarder: tiers, Timeout: 20 * time.Second})
	defer api.Close()

	const n = 200
	var wg sync.WaitGroup
	fails := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"categoria": ` + strconv.Itoa(i%4+1) + `, "producto_id": "P-` + strconv.Itoa(i%7) + `", "precio": 10.5, "cantidad_vendida": 2}`
			req, _ := http.NewRequest("POST", api.URL+httpapi.Route, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Sale-Id", "chain-"+strconv.Itoa(i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fails <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				fails <- resp.Status
			}
		}()
	}
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Fatalf("POST failed: %s", f)
	}
	recs := testenv.ReadAll(t, brokers, topic, n, 30*time.Second)
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	ids := map[string]bool{}
	writers := map[string]int{}
	for _, r := range recs {
		ids[producer.Header(r, "sale-id")] = true
		writers[producer.Header(r, "writer")]++
	}
	for i := range n {
		if !ids["chain-"+strconv.Itoa(i)] {
			t.Fatalf("sale chain-%d has no record", i)
		}
	}
	if writers["grpc-server-1"] != n/2 || writers["grpc-server-2"] != n/2 {
		t.Fatalf("records per writer %v, want %d each", writers, n/2)
	}
}
