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
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-50}"
OUT="$ROOT/.testbed/rust-api"
mkdir -p "$OUT"
log() { echo "bench-rust-api: $*" >&2; }

# --- tools -----------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null || { log "curl is required"; exit 1; }
command -v taskset >/dev/null || { log "taskset (util-linux) is required"; exit 1; }
[ "$(nproc)" -ge 2 ] || { log "needs 2 CPUs to pin load tool and server apart"; exit 1; }

log "building release binaries (nice)"
nice cargo build --release -q -p rust-api --bin rust-api
API_BIN="$ROOT/target/release/rust-api"
(cd tools/go-forwarder && nice go build -trimpath -o "$OUT/go-forwarder" .)
GO_BIN="$OUT/go-forwarder"

# --- processes -------------------------------------------------------------------------------
SINK_ADDR=127.0.0.1:18099
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { # host:port
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "nothing listening on $1"; return 1
}

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# Connections the sink has accepted so far (a pooled forwarder opens ~CONNECTIONS, a naive one 1 per request).
sink_conns() { curl -sf "http://$SINK_ADDR/stats/connections"; }
CLK_TCK="$(getconf CLK_TCK)"

GOMAXPROCS=1 taskset -c 1 "$GO_BIN" -mode sink -listen "$SINK_ADDR" 2>"$OUT/sink.log" &
SINK_PID=$!; PIDS+=("$SINK_PID")
wait_port "$SINK_ADDR"

start_variant() { # name port -> echoes pid
  local name="$1" port="$2"
  case "$name" in
    rust-api)
      RUST_LOG=warn taskset -c 1 "$API_BIN" --listen "127.0.0.1:$port" --workers 1 \
        --downstream-url "http://$SINK_ADDR" 2>>"$OUT/$name.log" >&2 & ;;
    rust-api-client-per-request)
      RUST_LOG=warn taskset -c 1 "$API_BIN" --listen "127.0.0.1:$port" --workers 1 \
        --downstream-url "http://$SINK_ADDR" --client-per-request 2>>"$OUT/$name.log" >&2 & ;;
    go-forwarder)
      GOMAXPROCS=1 taskset -c 1 "$GO_BIN" -mode forward -listen "127.0.0.1:$port" \
        -downstream-url "http://$SINK_ADDR" 2>>"$OUT/$name.log" >&2 & ;;
  esac
  echo $!
}

cat > "$OUT/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body   = '{"categoria":"Belleza","producto_id":"BEL-001","precio":129.99,"cantidad_vendida":3}'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
LUA

VARIANTS=(rust-api rust-api-client-per-request go-forwarder)
declare -A PORT=([rust-api]=18091 [rust-api-client-per-request]=18092 [go-forwarder]=18093)
RESULTS="$OUT/rounds.tsv"
printf 'round\tvariant\tgood_rps\tp50_ms\tp99_ms\tcpu_us_per_req\tsink_cpu_us_per_req\tnon2xx\terrors\tsink_conns\n' >"$RESULTS"

for round in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    port="${PORT[$v]}"
    pid="$(start_variant "$v" "$port")"
    wait_port "127.0.0.1:$port"
    url="http://127.0.0.1:$port/api/v1/ventas"
    taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$OUT/post.lua" "$url" >/dev/null
    c0="$(cpu_ticks "$pid")"; s0="$(cpu_ticks "$SINK_PID")"; k0="$(sink_conns)"
    line="$(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$OUT/post.lua" "$url" | grep '^WRKRESULT')"
    c1="$(cpu_ticks "$pid")"; s1="$(cpu_ticks "$SINK_PID")"; k1="$(sink_conns)"
    tw=$((k1 - k0))
    kill "$pid"; wait "$pid" 2>/dev/null || true
    read -r _ reqs dur_us p50 p99 non2xx errs <<<"$line"
    awk -v v="$v" -v r="$round" -v n="$reqs" -v d="$dur_us" -v p50="$p50" -v p99="$p99" \
        -v c="$((c1 - c0))" -v s="$((s1 - s0))" -v t="$CLK_TCK" -v bad="$non2xx" -v err="$errs" -v tw="$tw" 'BEGIN{
      good = n - bad; rps = good / (d / 1e6);
      printf "%d\t%s\t%.0f\t%.2f\t%.2f\t%.1f\t%.1f\t%d\t%d\t%d\n", r, v, rps, p50/1000, p99/1000,
        (c / t) * 1e6 / (n > 0 ? n : 1), (s / t) * 1e6 / (n > 0 ? n : 1), bad, err, tw }' >>"$RESULTS"
    log "round $round $v: $(tail -1 "$RESULTS" | cut -f3-)"
    sleep 1
  done
done

# --- report ------------------------------------------------------------------------------------
# Per variant, the median of each column over the rounds. "req/CPU-s" is throughput at equal CPU:
# requests per CPU-second spent on core 1 (forwarder + sink), i.e. 1e6 / (fwd µs + sink µs) — the
# figure the targets are judged on, because raw req/s on this shared box moves with whatever else
# runs on core 1 while the CPU cost per request barely does.
python3 - "$RESULTS" "$ROUNDS" "$CONNECTIONS" "$DURATION" <<'PY' | tee "$OUT/last.txt"
import csv, statistics, sys, datetime, os
path, rounds, conns, dur = sys.argv[1:5]
rows = list(csv.DictReader(open(path), delimiter="\t"))
variants = ["rust-api", "rust-api-client-per-request", "go-forwarder"]
med = {}
for v in variants:
    rs = [r for r in rows if r["variant"] == v]
    m = lambda k: statistics.median(float(r[k]) for r in rs)
    med[v] = dict(rps=m("good_rps"), p50=m("p50_ms"), p99=m("p99_ms"), cpu=m("cpu_us_per_req"),
                  sink=m("sink_cpu_us_per_req"), conns=m("sink_conns"),
                  bad=sum(int(r["non2xx"]) + int(r["errors"]) for r in rs),
                  eq=statistics.median(1e6 / (float(r["cpu_us_per_req"]) + float(r["sink_cpu_us_per_req"])) for r in rs))
print(f"rust-api forward benchmark — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%MZ}, {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}")
print(f"wrk -t1 -c{conns} -d{dur}s on CPU 0; forwarder (1 worker / GOMAXPROCS=1) + Go sink on CPU 1; medians of {rounds} interleaved round(s)")
print(f"{'variant':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'fwd CPU µs/req':>16}{'sink µs/req':>13}{'req/CPU-s':>11}{'sink conns':>12}{'non-2xx':>9}")
for v in variants:
    d = med[v]
    print(f"{v:<30}{d['rps']:>9.0f}{d['p50']:>9.2f}{d['p99']:>9.2f}{d['cpu']:>16.1f}{d['sink']:>13.1f}{d['eq']:>11.0f}{d['conns']:>12.0f}{d['bad']:>9d}")
a = med["rust-api"]
for label, other, target in (("(1)/(2) client-per-request", "rust-api-client-per-request", 2.0), ("(1)/(3) Go net/http", "go-forwarder", 1.0)):
    o = med[other]
    eq = a["eq"] / o["eq"]
    print(f"{label:<27} throughput at equal CPU {eq:.2f}x (target >= {target:g}x: {'met' if eq >= target else 'NOT met'});"
          f" raw req/s {a['rps'] / o['rps']:.2f}x; forwarder CPU per request {a['cpu'] / o['cpu']:.2f}x ({o['cpu'] / a['cpu']:.2f}x less)")
print(f"(every round: {path})")
PY
