// Package testenv connects integration tests to the real bench services (scripts/testbed:
// Kafka on KAFKA_BOOTSTRAP, Valkey from VALKEY_SERVER / VALKEY_ADDR). A test skips only when
// the variable it needs is absent, and only outside CI: with CI=true (scripts/test has started
// the bench) a missing variable fails the test, so a renamed key or --no-bench cannot turn the
// integration tests green by skipping them. Each test gets its own topic and its own Valkey server (or DB), so tests
// never see each other's data.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/valkey-io/valkey-go"

	"github.com/blackfriday-operator/go-services/internal/kafkatopic"
	"github.com/blackfriday-operator/go-services/internal/valkeyproc"
)

// Missing ends a test whose bench variable is absent: a skip on a developer's machine, a
// failure in CI (CI=true).
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true, so this fails instead of skipping: the bench must provide it", why)
	}
	t.Skip(why)
}

// KafkaBrokers returns the bench broker list, or ends the test (Missing).
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	v := os.Getenv("KAFKA_BOOTSTRAP")
	if v == "" {
		Missing(t, "KAFKA_BOOTSTRAP not set (source .testbed/env after scripts/testbed/kafka.sh start)")
	}
	return strings.Split(v, ",")
}

var seq atomic.Int64

// UniqueName returns a name unique to this test run.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
}

// NewTopic creates a fresh topic (deleted when the test ends) and returns its name. It
// returns once every partition has a leader (kafkatopic.Create), so the first produce does not
// race metadata.
func NewTopic(t testing.TB, brokers []string, partitions int32) string {
	t.Helper()
	name := UniqueName("gotest")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafkatopic.Create(ctx, brokers, name, partitions); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		kafkatopic.Delete(ctx, brokers, name) // best effort: the name is unique, a leftover harms no one
	})
	return name
}

// ReadAll consumes every record of a topic from the start until it has want records or the
// timeout passes. login are the client's login options (internal/kafkaauth), if any.
func ReadAll(t testing.TB, brokers []string, topic string, want int, timeout time.Duration, login ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, login...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		f := cl.PollFetches(ctx)
		f.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	// A short extra poll catches records beyond want (which would be a bug).
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	cl.PollFetches(ctx2).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	return out
}

// FreePort returns a TCP port that was free a moment ago on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Valkey is one Valkey database reserved for a test.
type Valkey struct {
	Addr   string
	DB     int
	Client valkey.Client
}

var sharedDB atomic.Int32

// NewValkey starts a private valkey-server from $VALKEY_SERVER on a free port (stopped at the
// end of the test). Without VALKEY_SERVER it falls back to a dedicated, flushed DB (1–15) on
// $VALKEY_ADDR; with neither it ends the test (Missing).
func NewValkey(t testing.TB) *Valkey {
	t.Helper()
	v := &Valkey{}
	if bin := os.Getenv("VALKEY_SERVER"); bin != "" {
		srv, err := valkeyproc.Start(bin, t.TempDir(), "--appendonly", "no")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		v.Addr = srv.Addr
	} else if addr := os.Getenv("VALKEY_ADDR"); addr != "" {
		v.Addr = addr
		v.DB = int(sharedDB.Add(1)%15) + 1
	} else {
		Missing(t, "neither VALKEY_SERVER nor VALKEY_ADDR set (source .testbed/env after scripts/testbed/valkey.sh start)")
	}
	c, err := valkeyproc.Connect(v.Addr, v.DB, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	v.Client = c
	t.Cleanup(v.Client.Close)
	if err := v.Client.Do(context.Background(), v.Client.B().Flushdb().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	return v
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Binary builds a main package of this module once per test process and returns its path.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "gobin")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", p, "github.com/blackfriday-operator/go-services/"+pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	built[pkg] = p
	return p
}
