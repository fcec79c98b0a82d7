// grpc-client is the REST→gRPC bridge: POST /api/v1/ventas (the same contract as rust-api),
// forwarded as ProcesarVenta to the writer tiers grpc-server-1 / grpc-server-2 by a routing
// policy, round_robin over each tier's pods.
package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/blackfriday-operator/go-services/internal/config"
	"github.com/blackfriday-operator/go-services/internal/forward"
	"github.com/blackfriday-operator/go-services/internal/health"
	"github.com/blackfriday-operator/go-services/internal/httpapi"
	"github.com/blackfriday-operator/go-services/internal/logging"
	"github.com/blackfriday-operator/go-services/internal/metrics"
	"github.com/blackfriday-operator/go-services/internal/routing"
	"github.com/blackfriday-operator/go-services/internal/shutdown"
)

func main() {
	cfg := config.New("grpc-client")
	listen := cfg.String("listen", "LISTEN", ":8081", "HTTP listen address (API, /metrics, /healthz, /readyz)")
	target1 := cfg.String("grpc-server-1", "GRPC_SERVER_1", "grpc-server-1:50051", "grpc-server-1 target: host:port (DNS, round_robin over every A record), scheme:///..., or a comma-separated address list")
	target2 := cfg.String("grpc-server-2", "GRPC_SERVER_2", "grpc-server-2:50051", "grpc-server-2 target (same forms)")
	route := cfg.String("route", "ROUTE", "both", "routing policy between the tiers: both, grpc-server-1 or grpc-server-2")
	weight1 := cfg.Int("weight-1", "ROUTE_WEIGHT_1", 1, "share of grpc-server-1 when --route=both")
	weight2 := cfg.Int("weight-2", "ROUTE_WEIGHT_2", 1, "share of grpc-server-2 when --route=both")
	timeout := cfg.Duration("timeout", "GRPC_TIMEOUT", 5*time.Second, "deadline of every ProcesarVenta call (expired → 504)")
	grace := cfg.Duration("shutdown-grace", "SHUTDOWN_GRACE", 15*time.Second, "time to finish in-flight requests on SIGTERM")
	logLevel := cfg.String("log-level", "LOG_LEVEL", "info", "debug, info, warn or error")
	sink := cfg.Bool("sink", "BENCH_SINK", false, "benchmark only (scripts/benchmarks/pipeline): answer every valid sale 200 without calling a writer; nothing is stored")
	cfg.MustParseOS()
	log := logging.Setup("grpc-client", *logLevel)

	policy, err := routing.ParsePolicy(*route, *weight1, *weight2)
	if err != nil {
		log.Error("routing policy", "err", err)
		os.Exit(2)
	}
	tiers, err := forward.New(policy, [2]string{*target1, *target2})
	if err != nil {
		log.Error("writer connections", "err", err)
		os.Exit(2)
	}
	defer tiers.Close()

	var ready health.State
	mux := http.NewServeMux()
	var fwd httpapi.Forwarder = tiers
	if *sink {
		log.Warn("--sink: sales are answered without a writer and dropped (benchmark only)")
		fwd = forward.Sink{}
	}
	mux.Handle(httpapi.Route, &httpapi.Handler{Forwarder: fwd, Timeout: *timeout})
	metrics.Register(mux)
	ready.Register(mux)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listen", "addr", *listen, "err", err)
		os.Exit(1)
	}
	ctx, stop := shutdown.OnSignal(context.Background())
	defer stop()
	// Ready only once every tier the policy uses has a writer connection: until then every sale
	// would fail at once with 503 (forward.Tiers.WaitReady says when that happened).
	go func() {
		if !*sink {
			if err := tiers.WaitReady(ctx); err != nil {
				return // shutting down before any writer was reached
			}
		}
		if ctx.Err() == nil { // not after SIGTERM turned readiness off
			ready.SetReady(true)
			log.Info("ready: a writer of every tier is connected")
		}
	}()
	log.Info("grpc-client serving", "http", ln.Addr().String(), "policy", policy.String(),
		"grpc-server-1", *target1, "grpc-server-2", *target2, "timeout", timeout.String())
	// On SIGTERM readiness turns false first; in-flight requests finish within the grace.
	go func() { <-ctx.Done(); ready.SetReady(false) }()
	if err := metrics.Serve(ctx, ln, mux, *grace); err != nil {
		log.Error("http serve", "err", err)
		os.Exit(1)
	}
	log.Info("grpc-client stopped")
}
