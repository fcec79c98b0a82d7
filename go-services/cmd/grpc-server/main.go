// grpc-server is the writer: blackfriday.ProductSaleService over gRPC, each sale produced to
// Kafka and answered only after the broker's acknowledgement. One program, deployed twice
// (grpc-server-1 and grpc-server-2); --name says which one it is.
package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/blackfriday-operator/go-services/internal/config"
	hstate "github.com/blackfriday-operator/go-services/internal/health"
	"github.com/blackfriday-operator/go-services/internal/kafkaauth"
	"github.com/blackfriday-operator/go-services/internal/logging"
	"github.com/blackfriday-operator/go-services/internal/metrics"
	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/shutdown"
	"github.com/blackfriday-operator/go-services/internal/writer"
	pb "github.com/blackfriday-operator/go-services/proto"
)

func main() {
	cfg := config.New("grpc-server")
	name := cfg.String("name", "WRITER_NAME", "grpc-server", "writer name, written into the record header `writer` and the estado (grpc-server-1 / grpc-server-2)")
	listen := cfg.String("listen", "GRPC_LISTEN", ":50051", "gRPC listen address")
	metricsListen := cfg.String("metrics-listen", "METRICS_LISTEN", ":9101", "HTTP address of /metrics, /healthz, /readyz")
	brokers := cfg.String("kafka-brokers", "KAFKA_BROKERS", "127.0.0.1:9092", "comma-separated Kafka bootstrap brokers")
	topic := cfg.String("topic", "KAFKA_TOPIC", "ventas", "Kafka topic")
	linger := cfg.Duration("linger", "KAFKA_LINGER", producer.DefaultLinger, "producer linger: how long a partition waits for more records before sending (0: at once; records of concurrent calls still share the next requests)")
	deliveryTimeout := cfg.Duration("delivery-timeout", "KAFKA_DELIVERY_TIMEOUT", producer.DefaultDeliveryTimeout, "how long a record may wait for Kafka (retries included) before the call fails UNAVAILABLE")
	lanes := cfg.Int("batch-lanes", "WRITER_BATCH_LANES", writer.DefaultLanes, "batches of concurrent calls in flight to Kafka at once: a lane sends every record queued so far, then waits for their acks (0: each call produces on its own)")
	maxBuffered := cfg.Int("max-buffered-records", "KAFKA_MAX_BUFFERED_RECORDS", producer.DefaultMaxBufferedRecords, "records buffered before Produce blocks (back-pressure)")
	maxConnAge := cfg.Duration("max-connection-age", "GRPC_MAX_CONNECTION_AGE", 30*time.Second, "clients are asked to reconnect after this age, so they re-resolve DNS and spread over new pods")
	grace := cfg.Duration("shutdown-grace", "SHUTDOWN_GRACE", 20*time.Second, "time to finish in-flight calls and flush Kafka on SIGTERM")
	logLevel := cfg.String("log-level", "LOG_LEVEL", "info", "debug, info, warn or error")
	streamWorkers := cfg.Int("stream-workers", "GRPC_STREAM_WORKERS", 0, "goroutines reused for incoming calls (grpc-go's NumStreamWorkers, experimental); 0: a new goroutine per call, grpc-go's default")
	sink := cfg.Bool("sink", "BENCH_SINK", false, "benchmark only (scripts/benchmarks/pipeline): acknowledge every record without Kafka; nothing is stored")
	login := kafkaauth.Register(cfg)
	cfg.MustParseOS()
	log := logging.Setup("grpc-server", *logLevel)
	auth, err := login.Settings().Options()
	if err != nil {
		log.Error("kafka login settings", "err", err)
		os.Exit(2)
	}

	kcfg := producer.Config{
		Brokers: config.SplitList(*brokers), Topic: *topic, ClientID: *name,
		Linger: *linger, DeliveryTimeout: *deliveryTimeout, MaxBufferedRecords: *maxBuffered,
		Auth: auth,
	}
	kafka, err := producer.NewClient(kcfg)
	if err != nil {
		log.Error("kafka client", "err", err)
		os.Exit(1)
	}
	go func() { // a broker that is down at start is logged, not fatal: calls answer UNAVAILABLE
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := kafkaauth.Check(ctx, kafka, *topic); err != nil {
			if reason, refused := kafkaauth.Refusal(err); refused {
				log.Error(reason+"; every sale will be refused UNAVAILABLE until this is fixed", "brokers", kcfg.Brokers, "err", err)
			} else {
				log.Warn("kafka not reachable yet", "brokers", kcfg.Brokers, "err", err)
			}
		}
	}()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listen", "addr", *listen, "err", err)
		os.Exit(1)
	}
	adminLn, err := net.Listen("tcp", *metricsListen)
	if err != nil {
		log.Error("listen", "addr", *metricsListen, "err", err)
		os.Exit(1)
	}

	srvOpts := []grpc.ServerOption{
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: *maxConnAge, MaxConnectionAgeGrace: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if *streamWorkers > 0 {
		srvOpts = append(srvOpts, grpc.NumStreamWorkers(uint32(*streamWorkers)))
	}
	srv := grpc.NewServer(srvOpts...)
	// safety net: a record may wait for the batch ahead of it in its lane, then for its own delivery
	var prod writer.Producer = kafka
	if *sink {
		log.Warn("--sink: records are acknowledged without Kafka and dropped (benchmark only)")
		prod = writer.SinkProducer{}
	}
	pb.RegisterProductSaleServiceServer(srv, &writer.Server{Producer: prod, Name: *name, MaxWait: 2**deliveryTimeout + 5*time.Second, Lanes: *lanes})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	hs.SetServingStatus(pb.ProductSaleService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)

	ctx, stop := shutdown.OnSignal(context.Background())
	defer stop()
	var ready hstate.State
	ready.SetReady(true)
	go metrics.Serve(ctx, adminLn, metrics.AdminMux(&ready), 5*time.Second)
	go func() {
		if err := srv.Serve(ln); err != nil {
			log.Error("grpc serve", "err", err)
			stop()
		}
	}()
	log.Info("writer serving", "name", *name, "grpc", ln.Addr().String(), "metrics", adminLn.Addr().String(),
		"brokers", kcfg.Brokers, "topic", *topic, "linger", linger.String(), "batch_lanes", *lanes)

	<-ctx.Done()
	// Drain: stop advertising health, let in-flight calls finish (each one waits for its ack),
	// then flush whatever franz-go still buffers and close.
	ready.SetReady(false)
	hs.Shutdown()
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(*grace):
		log.Warn("grace period over, stopping remaining calls")
		srv.Stop()
	}
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := kafka.Flush(fctx); err != nil {
		log.Warn("kafka flush", "err", err)
	}
	kafka.Close()
	slog.Info("writer stopped")
}
