// Package producer builds the Kafka producer the writers share and turns a validated sale into
// the Kafka record of docs/contracts.md §4.
//
// One client per process, shared by every concurrent RPC: franz-go batches records of all
// in-flight calls into one produce request per partition (up to 5 requests in flight per broker
// with idempotence), which is what makes the writer fast without giving up acks=all.
package producer

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/blackfriday-operator/go-services/internal/saleid"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// Header names of the Kafka record.
const (
	HeaderSaleID     = saleid.KafkaHeader
	HeaderAcceptedAt = "accepted-at"
	HeaderWriter     = "writer"
)

// Defaults of cmd/grpc-server; the benchmark (bench/writer.go) measures the writer with them.
const (
	// DefaultLinger is 0: send as soon as the partition's connection can take a request. At
	// fixed concurrency a linger is added to every call's latency and so divides throughput
	// (2 ms measured 0.62x franz-go's ProduceSync, issue 16), while records that arrive while
	// requests are in flight (up to 5 per broker with idempotence) are batched anyway.
	DefaultLinger             = 0 * time.Millisecond
	DefaultDeliveryTimeout    = 10 * time.Second
	DefaultMaxBufferedRecords = 10000
)

// Config is what the writer needs to reach Kafka.
type Config struct {
	Brokers  []string
	Topic    string
	ClientID string
	// Linger makes a partition wait for more records before it sends; 0 (DefaultLinger) sends
	// at once, and records of concurrent calls still share the requests that follow.
	Linger time.Duration
	// DeliveryTimeout bounds how long a record may wait for the broker (retries included)
	// before it is failed, so a dead cluster turns into UNAVAILABLE rather than a hang.
	DeliveryTimeout time.Duration
	// MaxBufferedRecords caps memory; Produce blocks (until the call's deadline) when full.
	MaxBufferedRecords int
	// Auth are the login options (SASL, TLS) of internal/kafkaauth; none for plain TCP.
	Auth []kgo.Opt
}

// batchRecords shows the batching the comment above describes: records per batch written to a
// partition (one produce request carries one batch per partition it writes to).
var batchRecords = promauto.NewHistogram(prometheus.HistogramOpts{
	Name:    "producer_batch_records",
	Help:    "Records per produce batch written to a partition.",
	Buckets: prometheus.ExponentialBuckets(1, 2, 14),
})

// produceRequests counts the produce requests written to the brokers: records per request (the
// batch histogram's sum over this) is what the broker's per-request cost is spread over.
var produceRequests = promauto.NewCounter(prometheus.CounterOpts{
	Name: "producer_produce_requests_total",
	Help: "Produce requests written to the brokers.",
})

// batchHook feeds batchRecords from franz-go's per-batch produce metrics and produceRequests
// from its per-request write hook.
type batchHook struct{}

// OnBrokerWrite counts the writes of produce requests (request key 0).
func (batchHook) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == 0 && err == nil {
		produceRequests.Inc()
	}
}

func (batchHook) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	batchRecords.Observe(float64(m.NumRecords))
}

// Options are the franz-go options for Config. Idempotence is franz-go's default and stays on;
// acks=all is also the default and is set explicitly because the contract depends on it.
func (c Config) Options() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DefaultProduceTopic(c.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(c.Linger),
		// The partitioner must match the key: one product's sales stay in one partition, in order.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		// Partitions added to the topic (an experiment edits the KafkaTopic) get records within
		// 30 s instead of franz-go's default 5 min metadata refresh.
		kgo.MetadataMaxAge(30 * time.Second),
		kgo.WithHooks(batchHook{}),
	}
	if c.ClientID != "" {
		opts = append(opts, kgo.ClientID(c.ClientID))
	}
	if c.DeliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(c.DeliveryTimeout))
	}
	if c.MaxBufferedRecords > 0 {
		opts = append(opts, kgo.MaxBufferedRecords(c.MaxBufferedRecords))
	}
	return append(opts, c.Auth...)
}

// NewClient creates the producer client. It does not contact the brokers; a broker that is down
// at start shows up as failed calls, not as a crash loop.
func NewClient(c Config) (*kgo.Client, error) {
	return kgo.NewClient(c.Options()...)
}

// Record builds the Kafka record for an accepted sale: key producto_id, value the protobuf
// request, headers sale-id, accepted-at (Unix ms) and writer.
func Record(req *pb.ProductSaleRequest, id, writer string, acceptedAt time.Time) (*kgo.Record, error) {
	value, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	return &kgo.Record{
		Key:   []byte(req.GetProductoId()),
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: HeaderSaleID, Value: []byte(id)},
			{Key: HeaderAcceptedAt, Value: []byte(strconv.FormatInt(acceptedAt.UnixMilli(), 10))},
			{Key: HeaderWriter, Value: []byte(writer)},
		},
	}, nil
}

// Header returns the value of the named header, or "".
func Header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
