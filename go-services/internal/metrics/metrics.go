// Package metrics serves the Prometheus registry and the health probes on one admin listener.
// Each program defines its own metrics next to the code that updates them (writer, consumer,
// httpapi); this package only exposes them, plus the Go runtime and process collectors that the
// default registry already carries.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/blackfriday-operator/go-services/internal/health"
)

// Register adds /metrics to mux.
func Register(mux *http.ServeMux) {
	mux.Handle("GET /metrics", promhttp.Handler())
}

// AdminMux returns a mux with /metrics, /healthz and /readyz.
func AdminMux(state *health.State) *http.ServeMux {
	mux := http.NewServeMux()
	Register(mux)
	state.Register(mux)
	return mux
}

// Serve runs an HTTP server on ln until ctx ends, then shuts it down within grace.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	// IdleTimeout closes keep-alive connections a client forgot; rust-api's pool reconnects.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		slog.Warn("http shutdown", "err", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
