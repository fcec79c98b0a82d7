// Package forward holds grpc-client's connections to the writer tiers and sends each sale to
// the tier the routing policy picks.
//
// One long-lived *grpc.ClientConn per tier, never one per request: a connection per request
// costs a TCP+HTTP/2 handshake each time, and one connection to a ClusterIP pins every call to a
// single pod. Instead the target is a headless Service name resolved with the dns resolver
// (dns:///grpc-server-2:50051 yields one address per pod) and the round_robin balancer keeps a
// subchannel to every address, so both pods of grpc-server-2 get calls. The writers close
// connections after a maximum age, which makes this side re-resolve and find new pods.
package forward

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	"github.com/blackfriday-operator/go-services/internal/routing"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// ServiceConfig selects client-side round_robin over every resolved address.
const ServiceConfig = `{"loadBalancingConfig":[{"round_robin":{}}]}`

var calls = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "grpc_client_forward_total",
	Help: "ProcesarVenta calls by writer tier and gRPC status code.",
}, []string{"tier", "code"})

// Tiers sends sales to grpc-server-1 and grpc-server-2.
type Tiers struct {
	picker  *routing.Picker
	conns   [2]*grpc.ClientConn
	clients [2]pb.ProductSaleServiceClient
}

// Target turns a configured writer address into a gRPC target and, for address lists, the
// resolver that serves them:
//
//	"grpc-server-2.ingest:50051"          → dns:///grpc-server-2.ingest:50051 (headless Service:
//	                                         one address per pod); the dns scheme is added so the
//	                                         default passthrough resolver (one address, never
//	                                         re-resolved) is not used by accident
//	"dns:///host:port", "unix:///path"     → as given
//	"127.0.0.1:50052,127.0.0.1:50053"      → a static resolver with both addresses (local runs
//	                                         and tests, where no DNS name has several A records)
//
// Every form is balanced with round_robin.
func Target(tier int, t string) (string, []grpc.DialOption) {
	t = strings.TrimSpace(t)
	if strings.Contains(t, ",") {
		var addrs []resolver.Address
		for _, a := range strings.Split(t, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, resolver.Address{Addr: a})
			}
		}
		r := manual.NewBuilderWithScheme(fmt.Sprintf("static-tier%d", tier))
		r.InitialState(resolver.State{Addresses: addrs})
		return r.Scheme() + ":///" + routingName(tier), []grpc.DialOption{grpc.WithResolvers(r)}
	}
	if t == "" || strings.Contains(t, ":///") {
		return t, nil
	}
	return "dns:///" + t, nil
}

// New connects to the tiers the policy uses (targets[0] = grpc-server-1, targets[1] =
// grpc-server-2). Connections are lazy: a writer that is down now is retried in the background
// and calls fail fast with UNAVAILABLE meanwhile.
func New(policy routing.Policy, targets [2]string, extra ...grpc.DialOption) (*Tiers, error) {
	t := &Tiers{picker: routing.NewPicker(policy)}
	for i := range 2 {
		if !policy.Uses(i + 1) {
			continue
		}
		target, resolverOpts := Target(i+1, targets[i])
		if target == "" {
			return nil, fmt.Errorf("routing policy %s sends to tier %d but its target is empty", policy, i+1)
		}
		opts := append([]grpc.DialOption{
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultServiceConfig(ServiceConfig),
		}, append(resolverOpts, extra...)...)
		conn, err := grpc.NewClient(target, opts...)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("tier %d target %q: %w", i+1, target, err)
		}
		conn.Connect() // start resolving and connecting now, not on the first sale
		t.conns[i] = conn
		t.clients[i] = pb.NewProductSaleServiceClient(conn)
	}
	return t, nil
}

// Forward sends one sale, with its id as x-sale-id metadata, to the picked tier. The context
// carries the call's deadline.
func (t *Tiers) Forward(ctx context.Context, id string, req *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	tier := t.picker.Pick()
	resp, err := t.clients[tier-1].ProcesarVenta(saleid.ToOutgoingGRPC(ctx, id), req)
	calls.WithLabelValues(routingName(tier), status.Code(err).String()).Inc()
	return resp, err
}

// WaitReady returns once every tier the policy uses has a connection in state READY (round_robin
// reports READY as soon as one of the tier's writers is connected), or ctx's error. grpc-client
// reports ready only after this: a pod that took sales before it could reach a writer failed
// them at once (gRPC fails a call fast while no connection of its tier is up) — on the bench
// node a grpc-client pod added during a rollout was Ready 0.9 s before the 503s of eight sales,
// while the NetworkPolicy engine may still refuse a new pod's connections for up to 0.8 s
// (docs/testbed-node.md).
func (t *Tiers) WaitReady(ctx context.Context) error {
	for _, c := range t.conns {
		if c == nil {
			continue
		}
		for s := c.GetState(); s != connectivity.Ready; s = c.GetState() {
			c.Connect() // an IDLE connection (e.g. after a writer closed it) starts connecting again
			if !c.WaitForStateChange(ctx, s) {
				return ctx.Err()
			}
		}
	}
	return nil
}

// Close closes every connection.
func (t *Tiers) Close() {
	for _, c := range t.conns {
		if c != nil {
			c.Close()
		}
	}
}

func routingName(tier int) string {
	if tier == 1 {
		return routing.Tier1
	}
	return routing.Tier2
}
