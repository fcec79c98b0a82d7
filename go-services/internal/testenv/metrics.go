package testenv

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Histogram returns the sample count and sum of the named histogram in the default registry (the
// one each program's /metrics serves); 0, 0 when it has no samples yet.
func Histogram(t testing.TB, name string) (count uint64, sum float64) {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			h := m.GetHistogram()
			count += h.GetSampleCount()
			sum += h.GetSampleSum()
		}
	}
	return count, sum
}

// Counter returns the value of the named counter in the default registry, summed over its label
// sets; 0 when it has none yet.
func Counter(t testing.TB, name string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var v float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				v += m.GetCounter().GetValue()
			}
		}
	}
	return v
}
