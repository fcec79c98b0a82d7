// Package routing decides which writer tier (grpc-server-1 or grpc-server-2) gets each sale.
// Within a tier, gRPC's round_robin balancer spreads calls over the tier's pods; this package
// only splits traffic between the tiers, by integer weights, so an experiment can send
// everything to one tier or mix them in a chosen ratio.
package routing

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// Tier names, equal to the Deployment/Service names the operator creates.
const (
	Tier1 = "grpc-server-1"
	Tier2 = "grpc-server-2"
)

// Policy is a validated routing policy: weights per tier, at least one of them positive.
type Policy struct {
	Weight1, Weight2 int
}

// ParsePolicy turns the configured mode and weights into a Policy.
//
//	mode "both"           use both tiers with weight1:weight2
//	mode "grpc-server-1"  only tier 1 (weights ignored)
//	mode "grpc-server-2"  only tier 2 (weights ignored)
func ParsePolicy(mode string, weight1, weight2 int) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case "both", "":
		if weight1 < 0 || weight2 < 0 || weight1+weight2 == 0 {
			return Policy{}, fmt.Errorf("routing weights must be >= 0 and not both 0 (got %d:%d)", weight1, weight2)
		}
		return Policy{weight1, weight2}, nil
	case Tier1, "1", "writer1":
		return Policy{1, 0}, nil
	case Tier2, "2", "writer2":
		return Policy{0, 1}, nil
	}
	return Policy{}, fmt.Errorf("unknown routing mode %q (want both, %s or %s)", mode, Tier1, Tier2)
}

// Uses reports whether the policy ever sends to the tier (1 or 2); unused tiers need no
// connection.
func (p Policy) Uses(tier int) bool {
	if tier == 1 {
		return p.Weight1 > 0
	}
	return p.Weight2 > 0
}

func (p Policy) String() string {
	return fmt.Sprintf("%s:%d,%s:%d", Tier1, p.Weight1, Tier2, p.Weight2)
}

// Picker chooses a tier per call. It is deterministic (a shared counter modulo the weight sum),
// lock-free, and spreads each tier's share evenly over time rather than in runs, so over any
// window of weight1+weight2 calls the split is exact.
type Picker struct {
	policy Policy
	next   atomic.Uint64
}

func NewPicker(p Policy) *Picker { return &Picker{policy: p} }

// Pick returns 1 or 2.
func (pk *Picker) Pick() int {
	w1, w2 := uint64(pk.policy.Weight1), uint64(pk.policy.Weight2)
	n := pk.next.Add(1) - 1
	// Interleave instead of w1 calls to tier 1 then w2 to tier 2: call n goes to tier 1 when the
	// running share of tier 1 falls behind its target (a Bresenham-style line).
	slot := n % (w1 + w2)
	if (slot+1)*w1/(w1+w2) > slot*w1/(w1+w2) {
		return 1
	}
	return 2
}
