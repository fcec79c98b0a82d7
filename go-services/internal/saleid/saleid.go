// Package saleid carries the sale id of docs/contracts.md §2 across hops: HTTP header
// X-Sale-Id, gRPC metadata x-sale-id, Kafka header sale-id. A hop that receives none makes one.
package saleid

import (
	"context"

	"github.com/google/uuid"
	"google.golang.org/grpc/metadata"
)

const (
	HTTPHeader  = "X-Sale-Id"
	GRPCKey     = "x-sale-id"
	KafkaHeader = "sale-id"
)

// New returns a fresh UUIDv7 (time-ordered, so ids sort by acceptance time like rust-api's).
func New() string {
	id, err := uuid.NewV7()
	if err != nil { // only when the random source fails
		return uuid.NewString()
	}
	return id.String()
}

// OrNew returns id, or a new one when id is empty.
func OrNew(id string) string {
	if id == "" {
		return New()
	}
	return id
}

// FromIncomingGRPC reads the id from the call's metadata, or makes one.
func FromIncomingGRPC(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(GRPCKey); len(v) > 0 {
			return OrNew(v[0])
		}
	}
	return New()
}

// ToOutgoingGRPC attaches the id to an outgoing call.
func ToOutgoingGRPC(ctx context.Context, id string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, GRPCKey, id)
}
