package writer

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultLanes is how many batches of calls the writer keeps in flight at once.
const DefaultLanes = 2

// maxBatch bounds a batch (records of this size stay far below a produce request's 1 MB).
const maxBatch = 1000

// pending is one call's record waiting for a lane.
type pending struct {
	ctx     context.Context
	rec     *kgo.Record
	promise func(*kgo.Record, error)
}

// batcher gathers the records of concurrent calls into batches, like a database's group commit:
// a lane takes every record queued so far, hands them to the producer back to back and waits
// for their acknowledgements before it takes the next batch. An idle writer sends a call's
// record at once (no linger); a busy one sends fewer, larger produce requests, because records
// pile up while the lanes wait. franz-go alone keeps up to 5 requests in flight per broker
// with idempotence and sends a record as soon as one is free, so under load on a small machine
// it sends many requests of a few records each, and the broker's per-request cost dominates.
type batcher struct {
	p     Producer
	queue chan pending
}

func newBatcher(p Producer, lanes int) *batcher {
	b := &batcher{p: p, queue: make(chan pending, maxBatch)}
	for range lanes {
		go b.lane()
	}
	return b
}

func (b *batcher) lane() {
	batch := make([]pending, 0, maxBatch)
	for first := range b.queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-b.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		var wg sync.WaitGroup
		wg.Add(len(batch))
		for _, p := range batch {
			// a call that gave up while queued is failed here, never written
			if err := p.ctx.Err(); err != nil {
				p.promise(p.rec, err)
				wg.Done()
				continue
			}
			b.p.Produce(p.ctx, p.rec, func(r *kgo.Record, err error) {
				p.promise(r, err)
				wg.Done()
			})
		}
		wg.Wait()
	}
}

// Produce queues the record for the next batch; the promise is called once, as with
// kgo.Client.Produce. If ctx ends before the record gets a lane, it is failed with ctx's error.
func (b *batcher) Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	select {
	case b.queue <- pending{ctx, r, promise}:
	case <-ctx.Done():
		promise(r, ctx.Err())
	}
}
