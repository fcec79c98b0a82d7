// bench measures the writer and the consumer against naive versions of themselves, on the real
// bench Kafka broker and a private valkey-server, and prints the figures side by side.
// It is a command, not a test: run it through scripts/benchmarks/go.sh.
//
//	go run ./benchmarks writer   -brokers 127.0.0.1:19092 -concurrency 64 -duration 5s -rounds 5
//	go run ./benchmarks consumer -brokers 127.0.0.1:19092 -valkey-server $VALKEY_SERVER -sales 200000
//	go run ./benchmarks consumer-aof -brokers 127.0.0.1:19092 -valkey-server $VALKEY_SERVER -sales 200000 -rounds 5
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/blackfriday-operator/go-services/internal/kafkatopic"
	"github.com/blackfriday-operator/go-services/internal/writer"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench writer|consumer|consumer-aof [flags]")
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	brokers := fs.String("brokers", os.Getenv("KAFKA_BOOTSTRAP"), "Kafka bootstrap brokers")
	partitions := fs.Int("partitions", 6, "partitions of the benchmark topic")
	var err error
	switch os.Args[1] {
	case "writer":
		concurrency := fs.Int("concurrency", 64, "concurrent gRPC calls (fixed)")
		duration := fs.Duration("duration", 5*time.Second, "measuring time per variant per round")
		rounds := fs.Int("rounds", 5, "rounds; each runs every variant once, in rotated order")
		lanes := fs.Int("lanes", writer.DefaultLanes, "batch lanes of the writer row (0: Produce per call)")
		extra := fs.String("extra-lingers", "", "comma-separated lingers of extra writer rows (e.g. 2ms, the old default)")
		fs.Parse(os.Args[2:])
		var lingers []time.Duration
		for _, s := range strings.Split(*extra, ",") {
			if s = strings.TrimSpace(s); s != "" {
				d, perr := time.ParseDuration(s)
				if perr != nil {
					fmt.Fprintf(os.Stderr, "bench: -extra-lingers: %v\n", perr)
					os.Exit(2)
				}
				lingers = append(lingers, d)
			}
		}
		if *rounds < 1 {
			fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
			os.Exit(2)
		}
		err = benchWriters(strings.Split(*brokers, ","), int32(*partitions), *concurrency, *duration, *rounds, *lanes, lingers)
	case "consumer":
		valkeyServer := fs.String("valkey-server", os.Getenv("VALKEY_SERVER"), "valkey-server binary (a private instance is started)")
		sales := fs.Int("sales", 200000, "sales pre-filled into the topic")
		naiveLimit := fs.Duration("naive-limit", 5*time.Minute, "stop the naive consumer after this long and extrapolate")
		featured := fs.String("featured-category", "Belleza", "keep price streams only for this category, as the pipeline runs (empty: every product)")
		fs.Parse(os.Args[2:])
		err = benchConsumers(strings.Split(*brokers, ","), *valkeyServer, int32(*partitions), *sales, *naiveLimit, *featured)
	case "consumer-aof":
		valkeyServer := fs.String("valkey-server", os.Getenv("VALKEY_SERVER"), "valkey-server binary (private instances are started)")
		sales := fs.Int("sales", 200000, "sales pre-filled into the topic")
		rounds := fs.Int("rounds", 5, "rounds; each drains the topic once per setting")
		featured := fs.String("featured-category", "Belleza", "keep price streams only for this category, as the pipeline runs (empty: every product)")
		replica := fs.Bool("replica", false, "give each Valkey a replica with the same persistence (the default deployment: primary and replica VMs)")
		fs.Parse(os.Args[2:])
		if *rounds < 1 {
			fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
			os.Exit(2)
		}
		err = benchAOF(strings.Split(*brokers, ","), *valkeyServer, int32(*partitions), *sales, *rounds, *featured, *replica)
	default:
		err = fmt.Errorf("unknown benchmark %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// newTopic creates a fresh topic and returns once every partition has a leader, the same wait
// the integration tests use, so the timed run does not start while leaders are still being
// elected; the returned func deletes the topic.
func newTopic(brokers []string, prefix string, partitions int32) (string, func(), error) {
	name := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafkatopic.Create(ctx, brokers, name, partitions); err != nil {
		return "", nil, err
	}
	return name, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		kafkatopic.Delete(ctx, brokers, name) // best effort: the name is unique
	}, nil
}
