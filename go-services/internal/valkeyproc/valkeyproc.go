// Package valkeyproc starts private valkey-server processes for the integration tests
// (internal/testenv) and the benchmark program (bench), and connects to a Valkey that may
// still be starting. A private server per test or benchmark run keeps their data apart from
// each other and from the shared bench Valkey.
package valkeyproc

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/valkey-io/valkey-go"
)

// Server is a running valkey-server started by Start.
type Server struct {
	Addr string // 127.0.0.1:port
	cmd  *exec.Cmd
}

// Start runs bin on a free port of 127.0.0.1 with RDB snapshots off and its files (log,
// append-only file) in dir; extra is appended to the command line, e.g. the persistence
// settings, which differ between tests ("--appendonly no") and the benchmark (the deployed
// "--appendonly yes --appendfsync everysec"). Start does not wait for the server: Connect does.
func Start(bin, dir string, extra ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--dir", dir, "--logfile", filepath.Join(dir, "valkey.log")}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd}, nil
}

// Stop kills the server and waits for it to exit; dir is left to the caller.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// Connect opens a client on database db of addr, retrying every 50ms until timeout: a freshly
// started server refuses connections until it listens. valkey.NewClient only succeeds after
// its handshake got an answer, so a returned client talks to a ready server.
func Connect(addr string, db int, timeout time.Duration) (valkey.Client, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{addr}, SelectDB: db, DisableCache: true})
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("valkey at %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a TCP port that was free a moment ago on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
