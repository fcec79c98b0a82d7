// Package saleid carries the sale id of docs/contracts.md §2 across hops: HTTP header
// X-Sale-Id (or the client's Idempotency-Key), gRPC metadata x-sale-id, Kafka header sale-id.
// A hop that receives none makes one. The consumer counts each sale id once, so a client that
// retries an in-doubt answer with the same key is counted once.
package saleid

import (
	"context"

	"github.com/google/uuid"
	"google.golang.org/grpc/metadata"
)

const (
	// IdempotencyHeader is the client's key (IETF draft "The Idempotency-Key HTTP Header Field").
	IdempotencyHeader = "Idempotency-Key"
	HTTPHeader        = "X-Sale-Id"
	GRPCKey           = "x-sale-id"
	KafkaHeader       = "sale-id"
)

// MaxLen and Rule: a key becomes part of a Valkey key and a Kafka header, so it stays short
// and plain (the same rule as rust-api's).
const (
	MaxLen = 128
	Rule   = "must be 1-128 characters: letters, digits, '-', '_', '.' or ':'"
)

// Valid reports whether id follows Rule.
func Valid(id string) bool {
	if len(id) < 1 || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

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

// FromIncomingGRPC reads the id from the call's metadata, or makes one; ok is false when the
// caller sent an id that breaks Rule.
func FromIncomingGRPC(ctx context.Context) (id string, ok bool) {
	if md, found := metadata.FromIncomingContext(ctx); found {
		if v := md.Get(GRPCKey); len(v) > 0 {
			return v[0], Valid(v[0])
		}
	}
	return New(), true
}

// ToOutgoingGRPC attaches the id to an outgoing call.
func ToOutgoingGRPC(ctx context.Context, id string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, GRPCKey, id)
}
