package writer

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// heldProducer records every Produce and keeps its promise until the test releases it.
type heldProducer struct {
	produced chan *kgo.Record
	promises chan func()
}

func newHeldProducer() *heldProducer {
	return &heldProducer{produced: make(chan *kgo.Record, 100), promises: make(chan func(), 100)}
}

func (h *heldProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	h.produced <- r
	h.promises <- func() { promise(r, nil) }
}

func (h *heldProducer) next(t *testing.T, what string) *kgo.Record {
	t.Helper()
	select {
	case r := <-h.produced:
		return r
	case <-time.After(10 * time.Second): // liveness bound, not a speed assertion
		t.Fatalf("%s was never handed to the producer", what)
		return nil
	}
}

func rec(key string) *kgo.Record { return &kgo.Record{Key: []byte(key)} }

func noop(*kgo.Record, error) {}

// Records queued while the lane waits for Kafka go out together, before any of them is
// acknowledged: the lane hands over its whole batch, then waits.
func TestBatcherHandsQueuedRecordsOverTogether(t *testing.T) {
	h := newHeldProducer()
	b := newBatcher(h, 1)
	b.Produce(context.Background(), rec("first"), noop)
	h.next(t, "first")
	for _, k := range []string{"b1", "b2", "b3", "b4"} {
		b.Produce(context.Background(), rec(k), noop)
	}
	(<-h.promises)() // Kafka acknowledges the first batch
	for _, k := range []string{"b1", "b2", "b3", "b4"} {
		if got := string(h.next(t, k+" (queued behind the first batch)").Key); got != k {
			t.Fatalf("got %s, want %s (order within a batch is the call order)", got, k)
		}
	}
}

// A call that gives up while its record waits for a lane is failed with its context's error and
// its record never reaches the producer (so never Kafka).
func TestBatcherFailsQueuedRecordOfCallThatGaveUp(t *testing.T) {
	h := newHeldProducer()
	b := newBatcher(h, 1)
	b.Produce(context.Background(), rec("busy"), noop)
	h.next(t, "busy")
	ctx, cancel := context.WithCancel(context.Background())
	failed := make(chan error, 1)
	b.Produce(ctx, rec("gave-up"), func(_ *kgo.Record, err error) { failed <- err })
	b.Produce(context.Background(), rec("later"), noop)
	cancel()
	(<-h.promises)()
	if got := string(h.next(t, "later").Key); got != "later" {
		t.Fatalf("the producer got %q: a record of a call that gave up was written", got)
	}
	if err := <-failed; err != context.Canceled {
		t.Fatalf("the call that gave up got %v, want context.Canceled", err)
	}
}

// heldBatchProducer is a BatchProducer: it records each ProduceSync's records and returns only
// when the test releases that batch.
type heldBatchProducer struct {
	heldProducer
	batches chan []*kgo.Record
	release chan struct{}
}

func newHeldBatchProducer() *heldBatchProducer {
	return &heldBatchProducer{heldProducer: *newHeldProducer(), batches: make(chan []*kgo.Record, 100), release: make(chan struct{})}
}

func (h *heldBatchProducer) ProduceSync(_ context.Context, rs ...*kgo.Record) kgo.ProduceResults {
	h.batches <- rs
	<-h.release
	out := make(kgo.ProduceResults, 0, len(rs))
	for i := len(rs) - 1; i >= 0; i-- { // completion order is not call order
		out = append(out, kgo.ProduceResult{Record: rs[i], Err: nil})
	}
	return out
}

func (h *heldBatchProducer) nextBatch(t *testing.T, what string) []*kgo.Record {
	t.Helper()
	select {
	case b := <-h.batches:
		return b
	case <-time.After(10 * time.Second): // liveness bound, not a speed assertion
		t.Fatalf("%s was never handed to the producer", what)
		return nil
	}
}

// With a BatchProducer (the real *kgo.Client), the records queued while the lane waited go in
// one ProduceSync, only the live ones, and each call's promise gets its own record once.
func TestBatcherSendsQueuedRecordsInOneProduceSync(t *testing.T) {
	h := newHeldBatchProducer()
	b := newBatcher(h, 1)
	got := make(chan string, 10)
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			t.Errorf("%s: %v", r.Key, err)
		}
		got <- string(r.Key)
	}
	b.Produce(context.Background(), rec("first"), promise)
	if first := h.nextBatch(t, "first"); len(first) != 1 || string(first[0].Key) != "first" {
		t.Fatalf("first batch %v, want [first]", first)
	}
	gaveUp, cancel := context.WithCancel(context.Background())
	failed := make(chan error, 1)
	b.Produce(gaveUp, rec("gave-up"), func(_ *kgo.Record, err error) { failed <- err })
	want := []string{"b1", "b2", "b3", "b4"}
	for _, k := range want {
		b.Produce(context.Background(), rec(k), promise)
	}
	cancel()
	h.release <- struct{}{} // Kafka acknowledges the first batch
	second := h.nextBatch(t, "the queued records")
	if len(second) != len(want) {
		t.Fatalf("second batch has %d records, want the %d live ones in one ProduceSync", len(second), len(want))
	}
	for i, k := range want {
		if string(second[i].Key) != k {
			t.Fatalf("record %d is %s, want %s (call order)", i, second[i].Key, k)
		}
	}
	if err := <-failed; err != context.Canceled {
		t.Fatalf("the call that gave up got %v, want context.Canceled", err)
	}
	h.release <- struct{}{}
	seen := map[string]int{}
	for range 1 + len(want) {
		seen[<-got]++
	}
	for _, k := range append([]string{"first"}, want...) {
		if seen[k] != 1 {
			t.Fatalf("promise of %s called %d times, want once (all: %v)", k, seen[k], seen)
		}
	}
}
