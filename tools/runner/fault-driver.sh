#!/usr/bin/env bash
# The fault driver of scripts/main-job --faults (docs/faults.md): started in the background by
# tools/runner/main_job.py during the load. One fault at a time, in --faults order, FAULT_EVERY
# seconds apart: it kills the target, measures when it is ready and when every partition is counted
# again, and appends one JSON line per fault to $OUT/faults.jsonl. Restarting a killed pipeline
# process is the runner's supervisor's job; restarting a killed bench service is this driver's
# (nothing else would).
# Environment (set by main_job.py): OUT RUN LOGS TESTBED_DIR FAULTS FAULT_EVERY FAULT_VALKEY_DOWN
# FAULT_DISK_FULL KAFKA_BOOTSTRAP TOPIC GROUP VALKEY_ADDR VALKEY_CLI, and the admin ports P_API
# P_CLIENT P_CM1 P_CM2 P_WM2A (rust-api, grpc-client, consumer-1, consumer-2, the killed writer).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${OUT:?}" "${RUN:?}" "${LOGS:?}" "${TESTBED_DIR:?}" "${FAULTS:?}" "${TOPIC:?}" "${GROUP:?}" "${VALKEY_ADDR:?}" "${VALKEY_CLI:?}"
vk() { "$VALKEY_CLI" -h "${VALKEY_ADDR%:*}" -p "${VALKEY_ADDR##*:}" "$@"; }

fault_pidfile() {
  case "$1" in
    consumer) echo "$RUN/consumer-1.pid" ;; writer) echo "$RUN/grpc-server-2-a.pid" ;;
    rust-api) echo "$RUN/rust-api.pid" ;; grpc-client) echo "$RUN/grpc-client.pid" ;;
    valkey) echo "$TESTBED_DIR/valkey/run/${VALKEY_ADDR##*:}.pid" ;; kafka) echo "$TESTBED_DIR/kafka/kafka.pid" ;;
  esac
}
# the single targets a fault hits (`together` kills three in the same instant)
fault_members() {
  case "$1" in together) echo consumer writer valkey ;; valkey-down|disk-full) echo valkey ;; *) echo "$1" ;; esac
}
fault_ready() {
  local m
  case "$1" in
    consumer) curl -sf -o /dev/null "http://127.0.0.1:$P_CM1/readyz" ;;
    writer) curl -sf -o /dev/null "http://127.0.0.1:$P_WM2A/readyz" ;;
    rust-api) curl -sf -o /dev/null "http://127.0.0.1:$P_API/readyz" ;;
    grpc-client) curl -sf -o /dev/null "http://127.0.0.1:$P_CLIENT/readyz" ;;
    valkey|valkey-down) [ "$(vk PING 2>/dev/null)" = PONG ] ;;
    disk-full) vk INFO persistence 2>/dev/null | tr -d '\r' | grep -qx 'aof_last_write_status:ok' ;;
    kafka) python3 tools/kafka/probe.py "$KAFKA_BOOTSTRAP" --quiet ;;
    together) for m in $(fault_members together); do fault_ready "$m" || return 1; done ;;
  esac
}
# partition → next offset the consumers applied (bf:offsets), as "p o" lines; empty when unreachable
fault_offsets() { vk HGETALL "bf:offsets:$TOPIC" 2>/dev/null | paste -d' ' - - | sort -n || true; }
# every partition of the snapshot $1 has advanced: sales are being counted on all of them again
fault_all_advanced() {
  local now; now="$(fault_offsets)"
  [ -n "$now" ] || return 1
  awk 'NR==FNR{was[$1]=$2; next} {now[$1]=$2} END{for (p in was) if (!(now[p] > was[p])) exit 1}' <(echo "$1") <(echo "$now")
}
# committed vs applied offsets per partition (tools/faults/offsets.py): `watch` and `catchup`
fault_probe() {
  python3 tools/faults/offsets.py --kafka "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group "$GROUP" --valkey "$VALKEY_ADDR" "$@"
}
fault_valkey_start() {  # start-instance keeps the dir: the primary loads its append-only file
  bash scripts/testbed/valkey.sh start-instance "${VALKEY_ADDR##*:}" >>"$LOGS/bench.log" 2>&1
}
fault_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
fault_kill() {  # TARGET: SIGKILL it (all its members in one kill); a bench service is started again on its own data
  local m pid cwd kpf="" pids=()
  local -a cmd=()
  for m in $(fault_members "$1"); do pids+=("$(cat "$(fault_pidfile "$m")")"); done
  if [ "$1" = kafka ]; then
    kpf="$(fault_pidfile kafka)"; mapfile -d '' cmd < "/proc/${pids[0]}/cmdline"; cwd="$(readlink "/proc/${pids[0]}/cwd")"
  fi
  kill -KILL "${pids[@]}"
  for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; done
  case "$1" in
    kafka)  # the same command line on the same data dir (kafka.sh start would format a new cluster)
      # the pid is written from inside the new session, just before exec: setsid forks when it is
      # started as a process-group leader, and then $! would name setsid, not the broker (which
      # kafka.sh stop would then never stop)
      (cd "$cwd" && setsid bash -c 'echo $$ > "$0"; exec "$@"' "$kpf" "${cmd[@]}" \
        >>"$TESTBED_DIR/kafka/broker.log" 2>&1 < /dev/null &) ;;
    valkey|together) fault_valkey_start ;;
  esac
}
# a lasting fault ends: measure how long the backlog takes to be counted (in the background,
# started just before the end: it takes the high watermarks first). Sets CATCHUP_PID.
fault_catchup_start() {
  local i
  rm -f "$RUN/catchup.ready"
  fault_probe catchup --ready-file "$RUN/catchup.ready" "$@" > "$RUN/catchup.json" 2>>"$LOGS/faults.log" &
  CATCHUP_PID=$!
  for ((i = 0; i < 300; i++)); do   # until it has the high watermarks (or has died)
    [ -e "$RUN/catchup.ready" ] || ! kill -0 "$CATCHUP_PID" 2>/dev/null && break
    sleep 0.1
  done
}
# valkey-down: the primary SIGKILLed and left down for FAULT_VALKEY_DOWN seconds (the committed
# offsets are watched meanwhile: nothing can be applied, so nothing may be committed), then started
# on its AOF. Sets DETAIL (JSON fields) and ENDED (when the fault ended).
fault_valkey_down() {
  fault_probe watch --seconds "$FAULT_VALKEY_DOWN" --valkey-down > "$RUN/while-down.json" 2>>"$LOGS/faults.log" \
    || echo '{}' > "$RUN/while-down.json"
  fault_catchup_start --committed-max-from "$RUN/while-down.json"
  ENDED=$(date +%s.%N)
  fault_valkey_start
  SNAP_END="$(fault_offsets)"   # what Valkey holds again (its AOF): "counting again" means past it
  DETAIL="\"down_s\": $FAULT_VALKEY_DOWN, \"while_down\": $(cat "$RUN/while-down.json")"
}
# failed Valkey calls of both consumers so far (consumer_valkey_errors_total)
fault_consumer_errors() {
  local p n total=0
  for p in "$P_CM1" "$P_CM2"; do
    n="$(curl -s "http://127.0.0.1:$p/metrics" | awk '/^consumer_valkey_errors_total /{printf "%d", $2}')" || n=0
    total=$(( total + ${n:-0} ))
  done
  echo "$total"
}
# disk-full: the primary's data dir (a tmpfs, VALKEY_PRIMARY_TMPFS) is filled to the last byte for
# FAULT_DISK_FULL seconds, then the filler is deleted. What Valkey and the consumer did is recorded.
fault_disk_full() {
  local dir="$TESTBED_DIR/valkey/${VALKEY_ADDR##*:}" avail t0 refused="" full err0 err1 msg status
  mountpoint -q "$dir" || { DETAIL='"error": "the Valkey data dir is not a tmpfs"'; ENDED=$(date +%s.%N); return; }
  err0="$(fault_consumer_errors)"
  avail="$(df -B1 --output=avail "$dir" | tail -n1 | tr -d " ")"
  fallocate -l "$avail" "$dir/filler" 2>/dev/null || true
  dd if=/dev/zero of="$dir/filler-rest" bs=4096 2>/dev/null || true   # what fallocate left
  t0=$(date +%s.%N)
  until ! fault_ready disk-full; do   # Valkey notices at its next AOF write
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{exit !(b-a > 30)}' && break
    sleep 0.1
  done
  fault_ready disk-full || refused="$(fault_since "$t0")"
  full="$(fault_probe watch --seconds "$FAULT_DISK_FULL" 2>>"$LOGS/faults.log")" || full='{}'
  err1="$(fault_consumer_errors)"
  # the consumers' last error line (JSON-quoted for faults.jsonl)
  msg="$({ grep -h 'valkey batch failed' "$LOGS"/consumer-*.log || true; } | tail -n1 | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()[-300:]))')"
  status="$(vk INFO persistence | tr -d '\r' | sed -n 's/^aof_last_write_status://p')" || status=""
  SNAP_END="$(fault_offsets)"   # "counting again" means past where the consumers stood at the end
  fault_catchup_start
  rm -f "$dir/filler" "$dir/filler-rest"
  ENDED=$(date +%s.%N)
  # the primary's log lives on the tmpfs (gone when the bench stops): keep what it said
  ( sleep 3; cp "$dir/valkey.log" "$LOGS/valkey-primary-disk-full.log" 2>/dev/null || true ) &
  DETAIL="\"full_s\": $FAULT_DISK_FULL, \"valkey_refused_writes_after_s\": ${refused:-null}, \"while_full\": $full, \"consumer_valkey_errors\": $(( err1 - err0 )), \"consumer_error\": $msg, \"aof_status_while_full\": \"$status\""
}
fault_driver() {  # runs in the background during the load
  local f t0 snap ready counting pids m
  for f in ${FAULTS//,/ }; do
    sleep "$FAULT_EVERY"
    snap="$(fault_offsets)"
    t0=$(date +%s.%N) ready="" counting="" DETAIL="" ENDED="$t0" CATCHUP_PID="" SNAP_END=""
    pids=""; for m in $(fault_members "$f"); do pids+=" $(cat "$(fault_pidfile "$m")")"; done
    case "$f" in
      valkey-down) printf '    FAULT: SIGKILL valkey (pid%s), down for %ss\n' "$pids" "$FAULT_VALKEY_DOWN"
                   kill -KILL $pids; while kill -0 $pids 2>/dev/null; do sleep 0.05; done
                   fault_valkey_down ;;
      disk-full)   printf '    FAULT: Valkey data dir full for %ss (valkey pid%s)\n' "$FAULT_DISK_FULL" "$pids"
                   fault_disk_full ;;
      *)           printf '    FAULT: SIGKILL %s (pid%s)\n' "$f" "$pids"
                   fault_kill "$f" ;;
    esac
    [ -n "$SNAP_END" ] && snap="$SNAP_END"
    while :; do   # a hang guard, not a speed limit: recovery is printed, never judged
      [ -z "$ready" ] && fault_ready "$f" && ready=$(fault_since "$ENDED")
      [ -n "$ready" ] && fault_all_advanced "$snap" && counting=$(fault_since "$ENDED")
      [ -n "$counting" ] && break
      awk -v a="$ENDED" -v b="$(date +%s.%N)" 'BEGIN{exit !(b-a > 180)}' && break
      sleep 0.2
    done
    if [ -n "$CATCHUP_PID" ]; then
      wait "$CATCHUP_PID" || true
      DETAIL+=", \"catchup\": $(cat "$RUN/catchup.json" 2>/dev/null || echo null)"
      printf '    FAULT: %s ended after %ss; %s\n' "$f" "$(awk -v a="$t0" -v b="$ENDED" 'BEGIN{printf "%.1f", b-a}')" "$(tail -c 300 "$RUN/catchup.json" 2>/dev/null)"
    fi
    printf '    FAULT: %s back (ready) after %ss; every partition counted again after %ss%s\n' "$f" "${ready:-never}" "${counting:-never}" \
      "$([ "$ENDED" != "$t0" ] && echo ' (both counted from the end of the fault)')"
    printf '{"target": "%s", "killed_at": %s, "ended_at": %s, "ready_s": %s, "counting_s": %s%s}\n' \
      "$f" "$t0" "$ENDED" "${ready:-null}" "${counting:-null}" "${DETAIL:+, $DETAIL}" >> "$OUT/faults.jsonl"
  done
  sleep "$FAULT_EVERY"
}

fault_driver
