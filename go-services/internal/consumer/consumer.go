// Package consumer reads the sales topic in a consumer group and turns every fetched batch into
// one atomic Valkey function call (package aggregates), committing to Kafka only after Valkey
// holds the batch and the offsets it reached.
//
// Why this order is exact: Valkey is the source of truth for "what has been counted" (the
// offsets hash written in the same atomic call as the aggregates). The Kafka commit is only a
// hint of where to resume. A crash between the two re-delivers records the function then
// skips; a rebalance cannot split a batch because polling blocks rebalances until the batch
// is applied and committed (kgo.BlockRebalanceOnPoll).
package consumer

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/kafkaauth"
	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/sale"
	pb "github.com/blackfriday-operator/go-services/proto"
)

var (
	batches = promauto.NewCounter(prometheus.CounterOpts{
		Name: "consumer_batches_total", Help: "Batches applied to Valkey (one function call each).",
	})
	batchRecords = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "consumer_batch_records", Help: "Records per applied batch.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 15),
	})
	batchSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "consumer_batch_apply_seconds", Help: "Time of one Valkey function call.",
		Buckets: prometheus.ExponentialBuckets(0.0002, 2, 15),
	})
	records = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "consumer_records_total",
		Help: "Records by outcome: applied, skipped (offset already in Valkey), duplicate (sale id already counted: a client's retry), invalid (undecodable, offset only).",
	}, []string{"outcome"})
	applyErrors = promauto.NewCounter(prometheus.CounterOpts{
		Name: "consumer_valkey_errors_total", Help: "Failed Valkey function calls (the batch is retried).",
	})
	commitErrors = promauto.NewCounter(prometheus.CounterOpts{
		Name: "consumer_commit_errors_total", Help: "Failed Kafka commits (harmless: Valkey skips the redelivery).",
	})
	// The end-to-end figure of the Kafka tier: from the writer accepting a sale (its accepted-at
	// header, ms) to the batch holding it being in Valkey. Batches that held redelivered records
	// (already applied once) are left out: their age says when they were first applied, not how
	// long a sale waits.
	acceptedToValkey = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "consumer_accepted_to_valkey_seconds",
		Help:    "Time from the writer accepting a sale to the sale being counted in Valkey.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	})
	lag = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "consumer_lag_records", Help: "High watermark minus the next offset to consume, per partition.",
	}, []string{"topic", "partition"})
)

// Applier is the Valkey side (a seam for tests).
type Applier interface {
	Apply(ctx context.Context, sales []aggregates.Sale) (aggregates.Result, error)
}

// Config of the consumer.
type Config struct {
	Brokers []string
	Topic   string
	Group   string
	// MaxBatch caps the records of one poll, so one function call stays short (Valkey runs
	// scripts on its single thread; a huge batch would block Grafana's reads).
	MaxBatch int
	// CommitInterval spaces the Kafka commits: the applied offsets are committed at most this
	// often (and when partitions are revoked, and on shutdown) instead of after every batch.
	// Valkey, not Kafka, records what was counted (bf:offsets), so a commit only saves the next
	// owner of a partition a redelivery that Valkey skips; each commit is an OffsetCommit
	// request for the broker's group coordinator. 0 commits after every batch.
	CommitInterval time.Duration
	// FetchMinBytes and FetchMaxWait: the broker answers a fetch once it holds FetchMinBytes of
	// new records or after FetchMaxWait, whichever comes first, so each poll (= one Valkey call)
	// carries more records under load and a trickle still arrives within FetchMaxWait. 0 means
	// DefaultFetchMinBytes / DefaultFetchMaxWait.
	FetchMinBytes int32
	FetchMaxWait  time.Duration
	// ApplyTimeout bounds one Valkey call; a failed call is retried with backoff.
	ApplyTimeout time.Duration
	// SessionTimeout is how long the group waits for a silent member (a SIGKILLed pod) before
	// giving its partitions to others; 0 means DefaultSessionTimeout.
	SessionTimeout time.Duration
	// InstanceID, when set, makes this a static group member (KIP-345): a member restarted with
	// the same id (the same pod after a crash, the same process slot of the main job) takes
	// its partitions back at once, without a rebalance and without waiting for the session
	// timeout. Two live members must never share an id. A graceful stop leaves the group
	// explicitly (static members otherwise stay in it until the session timeout).
	InstanceID string
	// OnAssigned and OnRevoked, if set, are told about every partition assignment and
	// revocation (logging, tests).
	OnAssigned func(map[string][]int32)
	OnRevoked  func(map[string][]int32)
	// Auth are the login options (SASL, TLS) of internal/kafkaauth; none for plain TCP.
	Auth []kgo.Opt
}

// DefaultCommitInterval: one OffsetCommit per member per second instead of one per batch (tens
// to hundreds a second under load), at the price of at most a second of records redelivered
// (and skipped by Valkey) after a crash.
const DefaultCommitInterval = time.Second

// DefaultFetchMinBytes and DefaultFetchMaxWait replace franz-go's 1 byte and our former 200 ms:
// with 1 byte the broker answers as soon as any record is there, and at 2,000-3,000 sales/s each
// poll, so each Valkey function call, carried 4-20 records; with these ≈ 100, and the consumers
// and Valkey cost a third to a half as much per sale (docs/capacity.md, third round). 16 KiB is
// ≈ 100 records as the writers batch them (≈ 167 bytes each in the broker's log, batch headers
// included); a sale waits at most 100 ms longer for its fetch when fewer arrive (the dashboard
// refreshes every 5 s; the HTTP answer does not wait for it).
const (
	DefaultFetchMinBytes = 16 << 10
	DefaultFetchMaxWait  = 100 * time.Millisecond
)

// DefaultSessionTimeout replaces franz-go's 45 s: a crashed member's partitions move after 10 s
// (the broker's group.min.session.timeout.ms is 6 s; heartbeats go every 3 s, so 10 s tolerates
// two lost heartbeats).
const DefaultSessionTimeout = 10 * time.Second

// Options are the franz-go options: a group member with manual commits, rebalances blocked
// while a batch is being applied, new groups starting at the earliest offset.
func (c Config) Options(onRevoked func(context.Context, *kgo.Client, map[string][]int32)) []kgo.Opt {
	onAssigned := func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
		slog.Info("partitions assigned", "assigned", assigned)
		if c.OnAssigned != nil {
			c.OnAssigned(assigned)
		}
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ConsumerGroup(c.Group),
		kgo.ConsumeTopics(c.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// New partitions of the topic are consumed within 30 s (default: 5 min).
		kgo.MetadataMaxAge(30 * time.Second),
		kgo.OnPartitionsAssigned(onAssigned),
		kgo.OnPartitionsRevoked(onRevoked),
		kgo.OnPartitionsLost(onRevoked),
	}
	minBytes, maxWait := c.FetchMinBytes, c.FetchMaxWait
	if minBytes <= 0 {
		minBytes = DefaultFetchMinBytes
	}
	if maxWait <= 0 {
		maxWait = DefaultFetchMaxWait
	}
	opts = append(opts, kgo.FetchMinBytes(minBytes), kgo.FetchMaxWait(maxWait))
	session := c.SessionTimeout
	if session <= 0 {
		session = DefaultSessionTimeout
	}
	opts = append(opts, kgo.SessionTimeout(session))
	if c.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(c.InstanceID))
	}
	return append(opts, c.Auth...)
}

// Consumer is one group member.
type Consumer struct {
	cfg    Config
	client *kgo.Client
	store  Applier
	// failedCommits counts Kafka commits failed in a row: only the first of a stretch is a
	// warning (a rebalance or a broker restart fails every commit for a while, and each
	// failure is harmless), the end of the stretch is logged once.
	failedCommits int

	// uncommitted is the last applied record of each partition not yet committed to Kafka
	// (CommitInterval); the revoke callback runs on franz-go's goroutine, hence the lock.
	mu          sync.Mutex
	uncommitted map[partitionKey]*kgo.Record
	lastCommit  time.Time
}

type partitionKey struct {
	topic     string
	partition int32
}

// New creates the group member (it joins on the first poll).
func New(cfg Config, store Applier) (*Consumer, error) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 5000
	}
	if cfg.ApplyTimeout <= 0 {
		cfg.ApplyTimeout = 30 * time.Second
	}
	c := &Consumer{cfg: cfg, store: store, uncommitted: map[partitionKey]*kgo.Record{}, lastCommit: time.Now()}
	cl, err := kgo.NewClient(cfg.Options(c.onRevoked)...)
	if err != nil {
		return nil, err
	}
	c.client = cl
	return c, nil
}

// onRevoked runs inside a rebalance, which BlockRebalanceOnPoll only lets happen between
// batches: every applied batch is in Valkey, and its offsets not committed yet (CommitInterval)
// are committed here, so the next owner starts where this member stopped. It forgets the lag
// gauges of partitions this member no longer owns. (Also called for lost partitions: that
// commit fails harmlessly, the next owner's redelivery is skipped by Valkey.)
func (c *Consumer) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	c.commitUncommitted()
	for topic, parts := range revoked {
		for _, p := range parts {
			lag.DeleteLabelValues(topic, strconv.Itoa(int(p)))
		}
		slog.Info("partitions revoked", "topic", topic, "partitions", parts)
	}
	if c.cfg.OnRevoked != nil {
		c.cfg.OnRevoked(revoked)
	}
}

// Run polls and applies until ctx ends, then leaves the group. A batch being applied when ctx
// ends is finished (applied and committed) first.
func (c *Consumer) Run(ctx context.Context) error {
	defer func() {
		// Close leaves the group (partitions move to the other members at once); leaving is a
		// rebalance, which BlockRebalanceOnPoll holds until AllowRebalance, even after an empty
		// poll, so allow it first.
		c.commitUncommitted()
		c.client.AllowRebalance()
		c.client.Close()
		if c.cfg.InstanceID != "" {
			c.leaveStatic()
		}
	}()
	for {
		pctx, cancel := c.pollContext(ctx)
		fetches := c.client.PollRecords(pctx, c.cfg.MaxBatch)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		if ctx.Err() != nil && fetches.NumRecords() == 0 {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if reason, refused := kafkaauth.Refusal(err); refused {
				// credentials or ACLs: nothing is consumed (or committed) until they are fixed
				slog.Error(reason, "topic", topic, "partition", p, "group", c.cfg.Group, "err", err)
			} else if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				slog.Warn("fetch error", "topic", topic, "partition", p, "err", err)
			}
		})
		if err := c.process(ctx, fetches); err != nil {
			return err
		}
		if c.commitDue() {
			c.commitUncommitted()
		}
		c.client.AllowRebalance()
	}
}

// process applies one poll's records and commits them.
func (c *Consumer) process(ctx context.Context, fetches kgo.Fetches) error {
	var recs []*kgo.Record
	var sales []aggregates.Sale
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		for _, r := range p.Records {
			recs = append(recs, r)
			sales = append(sales, Decode(r))
		}
		if n := len(p.Records); n > 0 {
			next := p.Records[n-1].Offset + 1
			lag.WithLabelValues(p.Topic, strconv.Itoa(int(p.Partition))).Set(float64(max(p.HighWatermark-next, 0)))
		}
	})
	if len(sales) == 0 {
		return nil
	}
	res, err := c.applyWithRetry(ctx, sales)
	if err != nil {
		return err
	}
	if res.Skipped == 0 {
		observeAcceptedToValkey(recs, time.Now())
	}
	records.WithLabelValues("applied").Add(float64(res.Applied))
	records.WithLabelValues("skipped").Add(float64(res.Skipped))
	records.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	c.mu.Lock()
	for _, r := range recs {
		k := partitionKey{r.Topic, r.Partition}
		if u := c.uncommitted[k]; u == nil || r.Offset > u.Offset {
			c.uncommitted[k] = r
		}
	}
	c.mu.Unlock()
	return nil
}

// commitDue says whether the applied offsets should go to Kafka now (CommitInterval).
func (c *Consumer) commitDue() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.uncommitted) > 0 && time.Since(c.lastCommit) >= c.cfg.CommitInterval
}

// pollContext bounds a poll by the time the uncommitted offsets are due, so they are committed
// when records stop coming too.
func (c *Consumer) pollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	c.mu.Lock()
	pending, due := len(c.uncommitted) > 0, c.lastCommit.Add(c.cfg.CommitInterval)
	c.mu.Unlock()
	if !pending {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, due)
}

// commitUncommitted commits the last applied record of every partition, with a context that
// outlives a shutdown signal: the batches are in Valkey, telling Kafka saves the next owner a
// redelivery (which Valkey would skip anyway).
func (c *Consumer) commitUncommitted() {
	c.mu.Lock()
	recs := make([]*kgo.Record, 0, len(c.uncommitted))
	for k, r := range c.uncommitted {
		recs = append(recs, r)
		delete(c.uncommitted, k)
	}
	c.lastCommit = time.Now()
	c.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.noteCommit(c.client.CommitRecords(cctx, recs...))
}

// noteCommit logs the first failed commit of a stretch and the stretch's end; the ones in
// between only count (consumer_commit_errors_total) and go to the debug log.
func (c *Consumer) noteCommit(err error) {
	switch {
	case err != nil:
		commitErrors.Inc()
		c.failedCommits++
		if c.failedCommits == 1 {
			slog.Warn("kafka commit failed; Valkey already holds the offsets (harmless; further failures are counted in consumer_commit_errors_total until commits work again)", "err", err)
		} else {
			slog.Debug("kafka commit failed again", "in_a_row", c.failedCommits, "err", err)
		}
	case c.failedCommits > 0:
		slog.Info("kafka commits work again", "failed_in_a_row", c.failedCommits)
		c.failedCommits = 0
	}
}

// observeAcceptedToValkey records each record's age at the moment its batch reached Valkey.
func observeAcceptedToValkey(recs []*kgo.Record, now time.Time) {
	for _, r := range recs {
		ms, err := strconv.ParseInt(producer.Header(r, producer.HeaderAcceptedAt), 10, 64)
		if err != nil {
			continue // not written by our writer (a test's record): no acceptance time
		}
		acceptedToValkey.Observe(max(now.Sub(time.UnixMilli(ms)).Seconds(), 0))
	}
}

// leaveStatic removes this static member from the group after Close (which, for a static
// member, does not leave), so a scale-down or a rollout hands its partitions over at once.
func (c *Consumer) leaveStatic() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.cfg.Brokers...)}, c.cfg.Auth...)...)
	if err == nil {
		defer cl.Close()
		var res kadm.LeaveGroupResponses
		res, err = kadm.NewClient(cl).LeaveGroup(ctx, kadm.LeaveGroup(c.cfg.Group).InstanceIDs(c.cfg.InstanceID).Reason("shutdown"))
		if err == nil {
			err = res.Error()
		}
	}
	if err != nil {
		slog.Warn("could not leave the group; the partitions move after the session timeout", "instance_id", c.cfg.InstanceID, "err", err)
		return
	}
	slog.Info("left the group", "instance_id", c.cfg.InstanceID)
}

// applyWithRetry retries a failed Valkey call until it succeeds. It never drops a batch: if
// Valkey is down the consumer stalls (lag grows, alerts fire) instead of losing sales. It does
// not give up on shutdown either while Valkey answers within the timeout, so an in-flight batch
// is finished; a shutdown while Valkey is unreachable abandons the batch uncommitted (it will be
// redelivered).
func (c *Consumer) applyWithRetry(ctx context.Context, sales []aggregates.Sale) (aggregates.Result, error) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		actx, cancel := context.WithTimeout(context.Background(), c.cfg.ApplyTimeout)
		res, err := c.store.Apply(actx, sales)
		cancel()
		if err == nil {
			batches.Inc()
			batchRecords.Observe(float64(len(sales)))
			batchSeconds.Observe(time.Since(start).Seconds())
			return res, nil
		}
		applyErrors.Inc()
		slog.Error("valkey batch failed, retrying", "attempt", attempt, "records", len(sales), "err", err)
		if attempt >= 3 && ctx.Err() != nil {
			return res, err
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Decode turns a record into the function's input; a record that is not a valid sale keeps
// its position with an empty Categoria (offset advances, nothing is counted) and is logged.
func Decode(r *kgo.Record) aggregates.Sale {
	s := aggregates.Sale{Partition: r.Partition, Offset: r.Offset, SaleID: producer.Header(r, producer.HeaderSaleID)}
	var req pb.ProductSaleRequest
	if err := proto.Unmarshal(r.Value, &req); err != nil {
		records.WithLabelValues("invalid").Inc()
		slog.Warn("undecodable record skipped", "partition", r.Partition, "offset", r.Offset, "err", err)
		return aggregates.Sale{Partition: r.Partition, Offset: r.Offset}
	}
	if err := sale.Validate(&req); err != nil {
		records.WithLabelValues("invalid").Inc()
		slog.Warn("invalid sale skipped", "partition", r.Partition, "offset", r.Offset, "err", err)
		return aggregates.Sale{Partition: r.Partition, Offset: r.Offset}
	}
	s.Categoria = sale.CategoryName(req.Categoria)
	s.ProductoID = req.ProductoId
	s.Precio = req.Precio
	s.Cantidad = req.CantidadVendida
	return s
}
