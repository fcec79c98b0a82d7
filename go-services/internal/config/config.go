// Package config binds every setting of a program to a command-line flag and an environment
// variable. Kubernetes Deployments set the environment; developers use flags. A flag given on
// the command line wins over the variable; a variable that does not parse stops the program at
// start instead of silently falling back to a default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Set is a flag.FlagSet that also knows the environment variable of each flag.
type Set struct {
	*flag.FlagSet
	env map[string]string // flag name → environment variable
}

// New creates a Set for the named program.
func New(program string) *Set {
	s := &Set{FlagSet: flag.NewFlagSet(program, flag.ContinueOnError), env: map[string]string{}}
	s.Usage = func() { s.PrintUsage(s.Output()) }
	return s
}

func (s *Set) String(name, env, def, usage string) *string {
	s.env[name] = env
	return s.FlagSet.String(name, def, usage)
}

func (s *Set) Int(name, env string, def int, usage string) *int {
	s.env[name] = env
	return s.FlagSet.Int(name, def, usage)
}

func (s *Set) Float(name, env string, def float64, usage string) *float64 {
	s.env[name] = env
	return s.FlagSet.Float64(name, def, usage)
}

func (s *Set) Bool(name, env string, def bool, usage string) *bool {
	s.env[name] = env
	return s.FlagSet.Bool(name, def, usage)
}

func (s *Set) Duration(name, env string, def time.Duration, usage string) *time.Duration {
	s.env[name] = env
	return s.FlagSet.Duration(name, def, usage)
}

// Parse reads the command line, then fills every flag not given there from its environment
// variable (lookup is os.LookupEnv in programs, a map in tests).
func (s *Set) Parse(args []string, lookup func(string) (string, bool)) error {
	if err := s.FlagSet.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	s.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, env := range s.env {
		if given[name] {
			continue
		}
		if v, ok := lookup(env); ok {
			if err := s.Set(name, v); err != nil {
				return fmt.Errorf("environment variable %s=%q: %w", env, v, err)
			}
		}
	}
	return nil
}

// ParseOS is Parse over os.Args and the process environment.
func (s *Set) ParseOS() error { return s.Parse(os.Args[1:], os.LookupEnv) }

// MustParseOS parses or exits: 0 after -h, 2 on a bad flag or environment value.
func (s *Set) MustParseOS() {
	err := s.ParseOS()
	switch {
	case err == nil:
		return
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	}
	fmt.Fprintln(s.Output(), err)
	os.Exit(2)
}

// PrintUsage lists every flag with its environment variable and default (the reference table
// in docs/go-services.md is this output).
func (s *Set) PrintUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage of %s (flags override environment variables):\n", s.Name())
	var names []string
	s.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		f := s.Lookup(n)
		fmt.Fprintf(w, "  -%s / %s (default %q)\n      %s\n", n, s.env[n], f.DefValue, f.Usage)
	}
}

// SplitList splits a comma-separated setting, dropping blanks.
func SplitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
