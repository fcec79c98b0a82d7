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
#   scripts/bench-rust-api.sh            # ROUNDS=3 DURATION=10 CONNECTIONS=50 WARMUP=2
#   ROUNDS=1 DURATION=5 scripts/bench-rust-api.sh
# Results: printed, and kept in .bench/rust-api/last.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-50}"
OUT="$ROOT/.bench/rust-api"
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

# --- report: median round per variant (by good req/s) -------------------------------------------
{
  echo "rust-api forward benchmark — $(date -u +%FT%TZ), $(nproc) CPUs, wrk -t1 -c$CONNECTIONS -d${DURATION}s on CPU 0,"
  echo "forwarder (1 worker / GOMAXPROCS=1) + Go sink on CPU 1; median of $ROUNDS round(s) by req/s"
  printf '%-30s %10s %9s %9s %14s %14s %8s %12s\n' variant "req/s" "p50 ms" "p99 ms" "CPU µs/req" "sink µs/req" non2xx "sink conns"
  for v in "${VARIANTS[@]}"; do
    awk -F'\t' -v v="$v" '$2==v' "$RESULTS" | sort -t$'\t' -k3,3n | awk -v m="$(( (ROUNDS + 1) / 2 ))" 'NR==m'
  done | tee "$OUT/median.tsv" | awk -F'\t' '{printf "%-30s %10s %9s %9s %14s %14s %8s %12s\n", $2, $3, $4, $5, $6, $7, $8+$9, $10}'
  awk -F'\t' '{rps[$2]=$3; cpu[$2]=$6}
    END{
      a="rust-api"; b="rust-api-client-per-request"; g="go-forwarder";
      printf "\n(1)/(2) throughput: %.2fx (target >= 2x: %s)   CPU per request: %.2fx (%.2fx less CPU)\n",
        rps[a]/rps[b], (rps[a]/rps[b] >= 2 ? "met" : "NOT met"), cpu[a]/cpu[b], cpu[b]/cpu[a];
      printf "(1)/(3) throughput: %.2fx (target >= 1.0x: %s)   CPU per request: %.2fx (%.2fx less CPU)\n",
        rps[a]/rps[g], (rps[a]/rps[g] >= 1 ? "met" : "NOT met"), cpu[a]/cpu[g], cpu[g]/cpu[a] }' "$OUT/median.tsv"
  echo "(all rounds: $RESULTS)"
} | tee "$OUT/last.txt"
