// Package logging sets up the structured JSON logger every program writes to stderr, so log
// collectors can index fields (sale_id, partition, offset) instead of parsing text.
package logging

import (
	"log/slog"
	"os"
	"runtime"
	"strings"
)

// Setup installs a JSON slog logger as the default and returns it. level is debug, info, warn
// or error (unknown values mean info).
func Setup(program, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})).With("program", program)
	slog.SetDefault(logger)
	// GOMAXPROCS follows the container's CPU limit on its own since Go 1.25 (go.mod says 1.26),
	// rounded up; logged so a deployment can check it matches the pod's limit.
	logger.Info("starting", "gomaxprocs", runtime.GOMAXPROCS(0), "cpus", runtime.NumCPU(), "go", runtime.Version())
	return logger
}
