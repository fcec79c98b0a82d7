package consumer_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/blackfriday-operator/go-services/internal/consumer"
)

// The fetch settings reach franz-go: an unset Config gets the defaults (16 KiB, 100 ms; not
// franz-go's 1 byte), set values go through unchanged (1 byte and 200 ms: the former behaviour).
func TestFetchSettingsReachTheClient(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      consumer.Config
		minBytes int32
		maxWait  time.Duration
	}{
		{"defaults", consumer.Config{}, 16 << 10, 100 * time.Millisecond},
		{"set", consumer.Config{FetchMinBytes: 1, FetchMaxWait: 200 * time.Millisecond}, 1, 200 * time.Millisecond},
	} {
		tc.cfg.Brokers, tc.cfg.Topic, tc.cfg.Group = []string{"127.0.0.1:1"}, "t", "g"
		cl, err := kgo.NewClient(tc.cfg.Options(nil)...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		minBytes, maxWait := cl.OptValue(kgo.FetchMinBytes), cl.OptValue(kgo.FetchMaxWait)
		cl.Close()
		if minBytes != tc.minBytes || maxWait != tc.maxWait {
			t.Errorf("%s: fetch min bytes %v, max wait %v; want %d, %v", tc.name, minBytes, maxWait, tc.minBytes, tc.maxWait)
		}
	}
}
