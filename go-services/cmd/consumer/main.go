// consumer reads the sales topic in a consumer group and keeps the dashboard's aggregates in
// Valkey, one atomic function call per fetched batch (docs/contracts.md §5).
package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/config"
	"github.com/blackfriday-operator/go-services/internal/consumer"
	"github.com/blackfriday-operator/go-services/internal/health"
	"github.com/blackfriday-operator/go-services/internal/kafkaauth"
	"github.com/blackfriday-operator/go-services/internal/logging"
	"github.com/blackfriday-operator/go-services/internal/metrics"
	"github.com/blackfriday-operator/go-services/internal/sale"
	"github.com/blackfriday-operator/go-services/internal/shutdown"
)

func main() {
	cfg := config.New("consumer")
	brokers := cfg.String("kafka-brokers", "KAFKA_BROKERS", "127.0.0.1:9092", "comma-separated Kafka bootstrap brokers")
	topic := cfg.String("topic", "KAFKA_TOPIC", "ventas", "Kafka topic")
	group := cfg.String("group", "KAFKA_GROUP", "blackfriday-consumer", "consumer group id")
	valkeyAddr := cfg.String("valkey-addr", "VALKEY_ADDR", "127.0.0.1:6379", "Valkey primary host:port (writes)")
	valkeyPassword := cfg.String("valkey-password", "VALKEY_PASSWORD", "", "Valkey password (AUTH), empty for none")
	valkeyDB := cfg.Int("valkey-db", "VALKEY_DB", 0, "Valkey database number")
	featured := cfg.String("featured-category", "FEATURED_CATEGORY", "", "keep price series (bf:series:*) only for this category's products; empty = every category")
	seriesMaxLen := cfg.Int("series-maxlen", "SERIES_MAXLEN", 1000, "approximate length bound of each bf:series:* stream")
	keyTTL := cfg.Duration("key-ttl", "KEY_TTL", 7*24*time.Hour, "TTL of keys that grow with the product count, refreshed on every write")
	maxBatch := cfg.Int("max-batch", "MAX_BATCH", 5000, "most records applied in one Valkey function call")
	sessionTimeout := cfg.Duration("session-timeout", "KAFKA_SESSION_TIMEOUT", consumer.DefaultSessionTimeout, "how long the group waits for a member that stopped heartbeating (crashed) before reassigning its partitions")
	instanceID := cfg.String("instance-id", "KAFKA_INSTANCE_ID", "", "static group membership id (e.g. the pod name): a restarted member with the same id takes its partitions back at once; must be unique per live consumer; empty = dynamic member")
	dedupWindow := cfg.Duration("dedup-window", "DEDUP_WINDOW", aggregates.DefaultDedupWindow, "how long a counted sale id is remembered (the bf:sales:* buckets), so a client's retry of an in-doubt sale is counted once")
	commitInterval := cfg.Duration("commit-interval", "KAFKA_COMMIT_INTERVAL", consumer.DefaultCommitInterval, "Kafka offset commits at most this often (and on revoke and shutdown); Valkey holds the counted offsets, a commit only spares the next owner a redelivery; 0: after every batch")
	fetchMinBytes := cfg.Int("fetch-min-bytes", "KAFKA_FETCH_MIN_BYTES", consumer.DefaultFetchMinBytes, "the broker answers a fetch once it holds this many bytes of new records, or after --fetch-max-wait: larger batches per Valkey call under load; 1: at once")
	fetchMaxWait := cfg.Duration("fetch-max-wait", "KAFKA_FETCH_MAX_WAIT", consumer.DefaultFetchMaxWait, "longest the broker holds a fetch waiting for --fetch-min-bytes: the most a trickle of sales waits before it is counted")
	metricsListen := cfg.String("metrics-listen", "METRICS_LISTEN", ":9201", "HTTP address of /metrics, /healthz, /readyz")
	logLevel := cfg.String("log-level", "LOG_LEVEL", "info", "debug, info, warn or error")
	login := kafkaauth.Register(cfg)
	cfg.MustParseOS()
	log := logging.Setup("consumer", *logLevel)
	auth, err := login.Settings().Options()
	if err != nil {
		log.Error("kafka login settings", "err", err)
		os.Exit(2)
	}
	// franz-go takes the minimum as an int32 and caps a fetch response at 50 MiB by default
	if *fetchMinBytes < 1 || *fetchMinBytes > 50<<20 {
		log.Error("--fetch-min-bytes / KAFKA_FETCH_MIN_BYTES must be between 1 and 52428800 (50 MiB)", "value", *fetchMinBytes)
		os.Exit(2)
	}
	if *fetchMaxWait < 10*time.Millisecond { // franz-go's lower bound
		log.Error("--fetch-max-wait / KAFKA_FETCH_MAX_WAIT must be at least 10ms", "value", fetchMaxWait.String())
		os.Exit(2)
	}
	if *featured != "" {
		c, ok := sale.CategoryFromName(*featured)
		if !ok {
			log.Error("unknown featured category", "value", *featured)
			os.Exit(2)
		}
		*featured = sale.CategoryName(c)
	}

	ctx, stop := shutdown.OnSignal(context.Background())
	defer stop()
	var ready health.State
	adminLn, err := net.Listen("tcp", *metricsListen)
	if err != nil {
		log.Error("listen", "addr", *metricsListen, "err", err)
		os.Exit(1)
	}
	go metrics.Serve(ctx, adminLn, metrics.AdminMux(&ready), 5*time.Second)

	// Valkey may start after us (a VM boots slower than a pod): wait for it instead of crash
	// looping, with the wait visible in the logs and in /readyz.
	var vk valkey.Client
	for backoff := 200 * time.Millisecond; ; backoff = min(backoff*2, 5*time.Second) {
		vk, err = valkey.NewClient(valkey.ClientOption{
			InitAddress: []string{*valkeyAddr}, Password: *valkeyPassword, SelectDB: *valkeyDB,
			DisableCache: true, // no client-side caching: we only write
		})
		if err == nil {
			store := aggregates.NewStore(vk, aggregates.Options{Topic: *topic, TTL: *keyTTL, SeriesMaxLen: *seriesMaxLen, SeriesCategory: *featured, DedupWindow: *dedupWindow})
			if err = store.Load(ctx); err == nil {
				defer vk.Close()
				run(ctx, log, &ready, store, consumer.Config{Brokers: config.SplitList(*brokers), Topic: *topic, Group: *group, MaxBatch: *maxBatch, CommitInterval: *commitInterval, FetchMinBytes: int32(*fetchMinBytes), FetchMaxWait: *fetchMaxWait, SessionTimeout: *sessionTimeout, InstanceID: *instanceID, Auth: auth})
				return
			}
			vk.Close()
		}
		log.Warn("valkey not ready, retrying", "addr", *valkeyAddr, "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

func run(ctx context.Context, log *slog.Logger, ready *health.State, store *aggregates.Store, cfg consumer.Config) {
	c, err := consumer.New(cfg, store)
	if err != nil {
		log.Error("kafka client", "err", err)
		os.Exit(1)
	}
	ready.SetReady(true)
	log.Info("consumer running", "brokers", cfg.Brokers, "topic", cfg.Topic, "group", cfg.Group, "instance_id", cfg.InstanceID, "max_batch", cfg.MaxBatch)
	if err := c.Run(ctx); err != nil {
		log.Error("consumer stopped with an error", "err", err)
		os.Exit(1)
	}
	log.Info("consumer stopped")
}
