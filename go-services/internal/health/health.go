// Package health answers Kubernetes probes. Liveness (/healthz) only says the process serves
// HTTP; readiness (/readyz) says whether it should get traffic, and turns false as soon as a
// graceful stop begins so the endpoint leaves the Service before the listener closes.
//
// Readiness deliberately does not follow downstream health (Kafka, the writers): if it did, one
// broken broker would take every pod out of its Service and turn clear 503 answers into
// connection errors.
package health

import (
	"net/http"
	"sync/atomic"
)

// State is a readiness flag, false until the program has finished starting.
type State struct{ ready atomic.Bool }

func (s *State) SetReady(ready bool) { s.ready.Store(ready) }
func (s *State) Ready() bool         { return s.ready.Load() }

// Register adds /healthz and /readyz to mux.
func (s *State) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
}
