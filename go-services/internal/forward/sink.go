package forward

import (
	"context"

	pb "github.com/blackfriday-operator/go-services/proto"
)

// Sink answers every sale as accepted without calling a writer: grpc-client's --sink, for
// scripts/benchmarks/pipeline only (the writers and everything behind them replaced by a sink, so
// the benchmark shows what the hops in front cost). Nothing is stored; never deploy it.
type Sink struct{}

// Forward drops the sale and answers like a writer would.
func (Sink) Forward(context.Context, string, *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	return &pb.ProductSaleResponse{Estado: "dropped by grpc-client's sink"}, nil
}
