// Package kafkatopic creates and deletes the throw-away topics of the integration tests
// (internal/testenv) and of the benchmark program (bench). Both need the same guarantee: when
// Create returns, every partition has a serving leader, so the first produce does not race
// the broker's metadata (a fixed sleep only made that likely, not certain).
package kafkatopic

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Create creates topic name with the given number of partitions and waits until every
// partition has a leader that answers for it. The replication factor is 1 because the bench
// Kafka is a single broker. ctx bounds both the creation and the wait. login are the client's
// login options (internal/kafkaauth) for a broker that wants one.
func Create(ctx context.Context, brokers []string, name string, partitions int32, login ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, login...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	for {
		if ready(ctx, adm, name, partitions) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("topic %s never got serving leaders: %w", name, ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready reports whether every partition has a leader and that leader answers for it.
func ready(ctx context.Context, adm *kadm.Client, name string, partitions int32) bool {
	md, err := adm.Metadata(ctx, name)
	if err != nil || !leadersReady(md, name, partitions) {
		return false
	}
	// Metadata can name a leader before that broker serves the partition. On the bench
	// broker, a produce issued right after the metadata check stalled ~5s (franz-go retrying
	// after its metadata refresh backoff), inside a benchmark's timed window; the old fixed
	// 500ms sleep happened to avoid it. Listing the end offsets asks each leader itself, so
	// success means the partitions answer requests; with this check the stall is gone.
	offs, err := adm.ListEndOffsets(ctx, name)
	if err != nil || offs.Error() != nil || len(offs[name]) != int(partitions) {
		return false
	}
	return true
}

// leadersReady reports whether the metadata lists all partitions of the topic, each with a
// leader and no error.
func leadersReady(md kadm.Metadata, name string, partitions int32) bool {
	td, ok := md.Topics[name]
	if !ok || td.Err != nil || len(td.Partitions) != int(partitions) {
		return false
	}
	for _, p := range td.Partitions {
		if p.Leader < 0 || p.Err != nil {
			return false
		}
	}
	return true
}

// Delete deletes topic name. Callers use it as best-effort cleanup of their own topics.
func Delete(ctx context.Context, brokers []string, name string, login ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, login...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).DeleteTopics(ctx, name)
	if err != nil {
		return err
	}
	return resp.Error()
}
