package consumer

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/testenv"
)

// Each record our writer wrote adds its age (now - accepted-at) once; a record without the header
// (not from our writer) adds nothing.
func TestAcceptedToValkeyObservesEachWriterRecord(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	rec := func(ageMs int64) *kgo.Record {
		at := strconv.FormatInt(now.UnixMilli()-ageMs, 10)
		return &kgo.Record{Headers: []kgo.RecordHeader{{Key: producer.HeaderAcceptedAt, Value: []byte(at)}}}
	}
	count0, sum0 := testenv.Histogram(t, "consumer_accepted_to_valkey_seconds")
	observeAcceptedToValkey([]*kgo.Record{rec(250), rec(1500), {}}, now)
	count, sum := testenv.Histogram(t, "consumer_accepted_to_valkey_seconds")
	if count-count0 != 2 || math.Abs(sum-sum0-1.75) > 1e-9 {
		t.Fatalf("observed %d samples summing %v s, want 2 summing 1.75 s", count-count0, sum-sum0)
	}
}
