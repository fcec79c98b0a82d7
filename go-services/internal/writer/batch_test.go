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
