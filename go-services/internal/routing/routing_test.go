package routing

import "testing"

func TestParsePolicy(t *testing.T) {
	cases := []struct {
		mode   string
		w1, w2 int
		want   Policy
		err    bool
	}{
		{"both", 1, 1, Policy{1, 1}, false},
		{"both", 1, 2, Policy{1, 2}, false},
		{"", 3, 0, Policy{3, 0}, false},
		{"grpc-server-1", 0, 0, Policy{1, 0}, false},
		{"GRPC-SERVER-2", 5, 5, Policy{0, 1}, false},
		{"both", 0, 0, Policy{}, true},
		{"both", -1, 2, Policy{}, true},
		{"random", 1, 1, Policy{}, true},
	}
	for _, c := range cases {
		got, err := ParsePolicy(c.mode, c.w1, c.w2)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%q %d:%d → %v, %v", c.mode, c.w1, c.w2, got, err)
		}
	}
}

func count(p Policy, n int) (t1, t2 int, longestRun int) {
	pk := NewPicker(p)
	last, run := 0, 0
	for i := 0; i < n; i++ {
		tier := pk.Pick()
		if tier == 1 {
			t1++
		} else {
			t2++
		}
		if tier == last {
			run++
		} else {
			run = 1
		}
		last = tier
		longestRun = max(longestRun, run)
	}
	return
}

func TestPickerSplitsByWeight(t *testing.T) {
	for _, c := range []struct {
		p      Policy
		t1, t2 int
		run    int
	}{
		{Policy{1, 1}, 500, 500, 1},
		{Policy{1, 2}, 333, 667, 2}, // 333 full cycles, then slot 0 goes to tier 2
		{Policy{1, 0}, 1000, 0, 1000},
		{Policy{0, 1}, 0, 1000, 1000},
		{Policy{3, 1}, 750, 250, 3},
	} {
		t1, t2, run := count(c.p, 1000)
		if t1 != c.t1 || t2 != c.t2 || run > c.run {
			t.Errorf("%v: got %d/%d longest run %d, want %d/%d run<=%d", c.p, t1, t2, run, c.t1, c.t2, c.run)
		}
	}
}

func TestUses(t *testing.T) {
	p := Policy{0, 2}
	if p.Uses(1) || !p.Uses(2) {
		t.Fatal(p)
	}
}
