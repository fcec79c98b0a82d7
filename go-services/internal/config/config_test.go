package config

import (
	"testing"
	"time"
)

func TestFlagBeatsEnvAndEnvBeatsDefault(t *testing.T) {
	s := New("t")
	a := s.String("a", "A", "da", "")
	b := s.Int("b", "B", 1, "")
	c := s.Duration("c", "C", time.Second, "")
	env := map[string]string{"A": "from-env", "B": "7", "C": "5ms"}
	if err := s.Parse([]string{"-a", "from-flag"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if *a != "from-flag" || *b != 7 || *c != 5*time.Millisecond {
		t.Fatalf("got %q %d %v", *a, *b, *c)
	}
}

func TestBadEnvValueFails(t *testing.T) {
	s := New("t")
	s.Int("b", "B", 1, "")
	err := s.Parse(nil, func(k string) (string, bool) { return "seven", k == "B" })
	if err == nil {
		t.Fatal("expected an error")
	}
}

func TestSplitList(t *testing.T) {
	got := SplitList(" a, ,b,")
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatal(got)
	}
}
