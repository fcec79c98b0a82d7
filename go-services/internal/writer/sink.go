package writer

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// SinkProducer acknowledges every record at once without Kafka: the writer's --sink, for
// scripts/benchmarks/pipeline only (Kafka and the consumers replaced by a sink, so the benchmark shows
// what the writer itself costs). Nothing is stored; never deploy it.
type SinkProducer struct{}

// Produce calls the promise with no error, as if the broker had acknowledged the record.
func (SinkProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	promise(r, nil)
}
