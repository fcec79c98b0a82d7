package producer_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/testenv"
)

// Every record produced through the shared client is counted in exactly one written batch,
// concurrent records share batches (fewer batches than records), and the produce requests that
// carried them are counted, against the real broker.
func TestBatchRecordsCountsEveryRecordOnce(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := testenv.NewTopic(t, brokers, 3)
	cl, err := producer.NewClient(producer.Config{Brokers: brokers, Topic: topic, Linger: producer.DefaultLinger, DeliveryTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	count0, sum0 := testenv.Histogram(t, "producer_batch_records")
	requests0 := testenv.Counter(t, "producer_produce_requests_total")

	const n = 400
	sales := testenv.Sales(n, 20, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i, s := range sales {
		r, err := producer.Record(s, "sale-"+strconv.Itoa(i), "test", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	wg.Wait()

	// franz-go may finish a batch's promises before it calls the batch-written hook, so the
	// histogram can lag the last acks by a moment (seen at load ~30: 261 of 400): wait for it.
	var batches uint64
	var records float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		count, sum := testenv.Histogram(t, "producer_batch_records")
		batches, records = count-count0, sum-sum0
		if records >= n || time.Now().After(deadline) {
			break
		}
	}
	if records != n {
		t.Fatalf("producer_batch_records counted %v records in %d batches, want %d records", records, batches, n)
	}
	if batches == 0 || batches >= n {
		t.Fatalf("%d batches for %d concurrent records: want at least 1 and fewer than the records", batches, n)
	}
	// a produce request carries one batch per partition it writes to: at least one, at most
	// as many requests as batches
	requests := testenv.Counter(t, "producer_produce_requests_total") - requests0
	if requests < 1 || requests > float64(batches) {
		t.Fatalf("producer_produce_requests_total counted %v requests for %d batches", requests, batches)
	}
	t.Logf("%d records in %d batches (%.1f per batch), %v produce requests", n, batches, float64(n)/float64(batches), requests)
}
