// Package writer implements blackfriday.ProductSaleService: it validates a sale, produces it to
// Kafka and answers OK only once the broker has acknowledged the record (acks=all). A Kafka
// failure is a gRPC error, never an OK with a sad estado (docs/contracts.md §3).
package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/blackfriday-operator/go-services/internal/grpcstatus"
	"github.com/blackfriday-operator/go-services/internal/kafkaauth"
	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/sale"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// Producer is the part of *kgo.Client the writer uses (a seam for tests).
type Producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
}

var (
	rpcTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "writer_rpcs_total",
		Help: "ProcesarVenta calls by gRPC status code.",
	}, []string{"code"})
	produceSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "writer_produce_seconds",
		Help:    "Time from Produce to the broker's acknowledgement (or failure).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	inflight = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "writer_inflight_rpcs",
		Help: "ProcesarVenta calls waiting for Kafka.",
	})
)

// Server is the writer. Name is the writer's identity (grpc-server-1 / grpc-server-2), written
// into the record's writer header and the estado.
type Server struct {
	pb.UnimplementedProductSaleServiceServer
	Producer Producer
	Name     string
	// MaxWait bounds how long a call waits for a promise even if franz-go could not fail the
	// record (an in-flight idempotent request can't be cancelled); a safety net, not a deadline.
	MaxWait time.Duration
	// Lanes > 0 gathers the records of concurrent calls into batches, at most Lanes batches
	// waiting for Kafka at once (see batcher; DefaultLanes); 0 produces each call's record
	// directly.
	Lanes int

	once    sync.Once
	produce Producer
}

// producer is Producer, or the batcher in front of it.
func (s *Server) producer() Producer {
	s.once.Do(func() {
		s.produce = s.Producer
		if s.Lanes > 0 {
			s.produce = newBatcher(s.Producer, s.Lanes)
		}
	})
	return s.produce
}

// ProcesarVenta validates, produces and waits for the acknowledgement.
func (s *Server) ProcesarVenta(ctx context.Context, req *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	resp, err := s.procesar(ctx, req)
	rpcTotal.WithLabelValues(status.Code(err).String()).Inc()
	return resp, err
}

func (s *Server) procesar(ctx context.Context, req *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	if err := sale.Validate(req); err != nil {
		return nil, grpcstatus.InvalidArgument(err)
	}
	id, ok := saleid.FromIncomingGRPC(ctx)
	if !ok {
		return nil, grpcstatus.InvalidArgument(&sale.ValidationError{Fields: []sale.FieldError{{Field: saleid.GRPCKey, Rule: saleid.Rule}}})
	}
	rec, err := producer.Record(req, id, s.Name, time.Now())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode sale: %v", err)
	}

	type result struct {
		rec *kgo.Record
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	inflight.Inc()
	defer inflight.Dec()
	// The call's context goes with the record: if the caller's deadline passes before the record
	// was sent, franz-go fails it (so it is not written and the caller's error is the truth).
	// Once sent, it can't be recalled, and we wait for the broker's answer instead of guessing.
	// giveUp also fails a record still queued for a batch when the safety timer fires below.
	rctx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	s.producer().Produce(rctx, rec, func(r *kgo.Record, err error) { done <- result{r, err} })

	maxWait := s.MaxWait
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	var res result
	select {
	case res = <-done:
	case <-timer.C:
		return nil, status.Error(codes.Unavailable, "kafka did not answer in time")
	}
	produceSeconds.Observe(time.Since(start).Seconds())
	if res.err != nil {
		slog.Debug("produce failed", "sale_id", id, "err", res.err)
		return nil, KafkaError(ctx, res.err)
	}
	return &pb.ProductSaleResponse{
		Estado: fmt.Sprintf("accepted by %s partition=%d offset=%d", s.Name, res.rec.Partition, res.rec.Offset),
	}, nil
}

// KafkaError maps a produce failure of the call with context ctx to the gRPC status of the
// contract: the caller's own deadline stays DEADLINE_EXCEEDED, its cancellation CANCELED,
// anything else from Kafka UNAVAILABLE.
//
// franz-go fails every buffered record of a partition when the first record of the batch is
// cancelled, so a context error can belong to another call. Such a record was never sent (it is
// only failed when that is safe), and its caller still has time: UNAVAILABLE tells it to retry.
func KafkaError(ctx context.Context, err error) error {
	own := ctx.Err() != nil
	switch {
	case own && errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "kafka did not acknowledge before the deadline")
	case own && errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "call cancelled before kafka acknowledged")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return status.Error(codes.Unavailable, "kafka: the record failed with its batch (another call's deadline passed); not written")
	case errors.Is(err, kgo.ErrClientClosed):
		return status.Error(codes.Unavailable, "writer is shutting down")
	}
	if reason, refused := kafkaauth.Refusal(err); refused {
		return status.Errorf(codes.Unavailable, "kafka: %s: %v", reason, err)
	}
	return status.Errorf(codes.Unavailable, "kafka: %v", err)
}
