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
// a lane takes every record queued so far, hands them to the producer and waits for their
// acknowledgements before it takes the next batch. An idle writer sends a call's record at once
// (no linger); a busy one sends fewer, larger produce requests, because records pile up while
// the lanes wait. franz-go alone keeps up to 5 requests in flight per broker with idempotence
// and sends a record as soon as one is free, so under load on a small machine it sends many
// requests of a few records each, and the broker's per-request cost dominates.
//
// When the producer is a BatchProducer (*kgo.Client), a batch goes in with one ProduceSync: with
// the client's linger > 0 (producer.LaneHold) franz-go holds the records until all of the batch
// is buffered and then drains every partition at once, so a batch is one produce request per
// broker. Handed over one by one with linger 0, franz-go's sender wakes on the first record and
// cuts a request before the rest arrive (1.0 record per produce request was measured at Locust
// rates, and about one request per few records under load).
type batcher struct {
	p     Producer
	sync  BatchProducer // p as a BatchProducer, or nil
	queue chan pending
}

// BatchProducer sends several records and returns once every one has its outcome: the shape of
// (*kgo.Client).ProduceSync.
type BatchProducer interface {
	ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults
}

func newBatcher(p Producer, lanes int) *batcher {
	b := &batcher{p: p, queue: make(chan pending, maxBatch)}
	b.sync, _ = p.(BatchProducer)
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
		// a call that gave up while queued is failed here, never written
		live := batch[:0]
		for _, p := range batch {
			if err := p.ctx.Err(); err != nil {
				p.promise(p.rec, err)
				continue
			}
			live = append(live, p)
		}
		if b.sync != nil {
			b.sendTogether(live)
		} else {
			b.sendEach(live)
		}
	}
}

// sendTogether hands the batch over in one ProduceSync. Its context is not any one call's: a
// record that is in the batch goes to Kafka even if its caller's deadline passes meanwhile (the
// caller then gets DEADLINE_EXCEEDED, which the contract answers as in doubt: its retry with the
// same sale id is counted once). One call's deadline must not fail the others' records either.
// Every record is bounded by the client's delivery timeout.
func (b *batcher) sendTogether(batch []pending) {
	if len(batch) == 0 {
		return
	}
	recs := make([]*kgo.Record, len(batch))
	byRec := make(map[*kgo.Record]func(*kgo.Record, error), len(batch))
	for i, p := range batch {
		recs[i] = p.rec
		byRec[p.rec] = p.promise
	}
	for _, res := range b.sync.ProduceSync(context.Background(), recs...) {
		byRec[res.Record](res.Record, res.Err)
	}
}

// sendEach hands the records over one by one, each with its call's context.
func (b *batcher) sendEach(batch []pending) {
	var wg sync.WaitGroup
	wg.Add(len(batch))
	for _, p := range batch {
		b.p.Produce(p.ctx, p.rec, func(r *kgo.Record, err error) {
			p.promise(r, err)
			wg.Done()
		})
	}
	wg.Wait()
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
