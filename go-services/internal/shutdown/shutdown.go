// Package shutdown turns SIGTERM/SIGINT into context cancellation. The first signal starts a
// graceful stop (drain, flush, commit); a second one exits at once, for an operator who does
// not want to wait.
package shutdown

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// OnSignal returns a context cancelled by the first SIGTERM or SIGINT.
func OnSignal(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-ch
		slog.Info("signal received, stopping gracefully", "signal", sig.String())
		cancel()
		sig = <-ch
		slog.Warn("second signal, exiting now", "signal", sig.String())
		os.Exit(1)
	}()
	return ctx, cancel
}
