package consumer_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/consumer"
	"github.com/blackfriday-operator/go-services/internal/testenv"
)

// committed is the group's committed offsets on topic, summed over the partitions.
func committed(t *testing.T, brokers []string, group, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, o := range offs[topic] {
		n += o.At
	}
	return n
}

// With CommitInterval the applied offsets go to Kafka at that cadence, not after each batch:
// a member with a long interval has committed nothing while it counts every record, and
// commits everything when it stops; with a short one they are committed although no further
// record arrives to trigger a commit.
func TestCommitsAtTheIntervalAndOnShutdown(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	v := testenv.NewValkey(t)
	topic := testenv.NewTopic(t, brokers, partitions)
	sales := testenv.Sales(2000, products, 21)
	produce(t, brokers, topic, sales)
	opts := aggregates.Options{Topic: topic}

	long := testenv.UniqueName("g-long")
	stop := start(t, consumer.Config{Brokers: brokers, Topic: topic, Group: long, MaxBatch: 100, CommitInterval: time.Hour}, newStore(t, v, opts))
	waitTotal(t, v, int64(len(sales)), 60*time.Second)
	if n := committed(t, brokers, long, topic); n != 0 {
		t.Fatalf("committed %d offsets within an hour's interval, want none before shutdown", n)
	}
	stop()
	if n := committed(t, brokers, long, topic); n != int64(len(sales)) {
		t.Fatalf("committed %d after shutdown, want every one of the %d records", n, len(sales))
	}

	short := testenv.UniqueName("g-short")
	start(t, consumer.Config{Brokers: brokers, Topic: topic, Group: short, MaxBatch: 100, CommitInterval: 200 * time.Millisecond}, newStore(t, v, opts))
	deadline := time.Now().Add(30 * time.Second) // liveness bound, not a speed assertion
	for committed(t, brokers, short, topic) != int64(len(sales)) {
		if time.Now().After(deadline) {
			t.Fatalf("the idle member committed %d of %d records, want all without a new record or a shutdown", committed(t, brokers, short, topic), len(sales))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
