package main_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/blackfriday-operator/go-services/internal/testenv"
)

// Fetch settings franz-go cannot take stop the consumer at start with exit 2 and a message
// naming the flag and its variable, before it connects to anything.
func TestBadFetchSettingsAreRefusedByName(t *testing.T) {
	bin := testenv.Binary(t, "cmd/consumer")
	for _, tc := range []struct{ env, want string }{
		{"KAFKA_FETCH_MIN_BYTES=0", "--fetch-min-bytes / KAFKA_FETCH_MIN_BYTES must be between 1"},
		{"KAFKA_FETCH_MIN_BYTES=4294967296", "--fetch-min-bytes / KAFKA_FETCH_MIN_BYTES must be between 1"},
		{"KAFKA_FETCH_MAX_WAIT=5ms", "--fetch-max-wait / KAFKA_FETCH_MAX_WAIT must be at least 10ms"},
		{"KAFKA_FETCH_MIN_BYTES=lots", `KAFKA_FETCH_MIN_BYTES="lots": parse error`},
	} {
		// a consumer that accepted the value would wait for Valkey forever: the timeout ends it
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, "--metrics-listen", "127.0.0.1:0", "--kafka-brokers", "127.0.0.1:1", "--valkey-addr", "127.0.0.1:1")
		cmd.Env = append(os.Environ(), tc.env)
		out, err := cmd.CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: %v, output %q; want exit 2 and %q", tc.env, err, out, tc.want)
		}
	}
}
