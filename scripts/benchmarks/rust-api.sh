#!/usr/bin/env bash
# Benchmark of rust-api's forward hop (a command, not a test: it prints figures, asserts nothing).
#
# Side by side in one run, each forwarding every sale to the same fast sink on loopback:
#   (1) rust-api                          (one pooled keep-alive reqwest client)
#   (2) rust-api --client-per-request     (the naive variant: a new client per request)
#   (3) tools/go-forwarder                (plain Go net/http doing the same forward)
# The forwarder under test and the sink share CPU 1 (the forwarder gets 1 worker / GOMAXPROCS=1);
# wrk (1 thread, fixed connections) runs on CPU 0. Variants are interleaved over ROUNDS rounds
# and the median round is reported, because this 2-core box is shared and noisy; CPU-µs per
# request (from /proc/<pid>/stat utime+stime) is the steadier figure.
#
#   scripts/benchmarks/rust-api.sh            # ROUNDS=3 DURATION=10 CONNECTIONS=50 WARMUP=2
#   ROUNDS=1 DURATION=5 scripts/benchmarks/rust-api.sh
# Results: printed, and kept in .testbed/rust-api/last.txt.
# The benchmark is the program tools/runner/rust_api_benchmark.py (its processes run under the local
# runner's supervisor, tools/runner/supervisor.py); this file is its entry point.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec python3 tools/runner/rust_api_benchmark.py "$@"
