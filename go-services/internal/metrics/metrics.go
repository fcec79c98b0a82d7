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
	"sync/atomic"
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

// CloseDelay is how long a stopping server goes on answering, every answer with
// `Connection: close`, before it shuts down. A keep-alive client (rust-api's pool in front of
// grpc-client) may be sending its next request on an idle connection at the very moment a server
// closes it, and then gets a reset it cannot tell from a lost request (a 503 "in doubt"). Closing
// each connection right after an answer instead ends the connections the clients use without that
// race; Shutdown then only closes connections idle for this long.
const CloseDelay = 2 * time.Second

// Serve runs an HTTP server on ln until ctx ends, then stops it gracefully: for CloseDelay it goes
// on serving, closing each connection after its answer, then it shuts down within grace.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	var closing atomic.Bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if closing.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
	// IdleTimeout closes keep-alive connections a client forgot; rust-api's pool reconnects.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	closing.Store(true)
	select {
	case err := <-errc:
		return err
	case <-time.After(CloseDelay):
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
