# shellcheck shell=bash
# Shared helpers for scripts/testbed/*.sh. Source it; do not run it.
#
#   BF_ROOT      repository root (absolute)
#   TESTBED_DIR    $BF_ROOT/.testbed          (git-ignored: state, logs, data)
#   TESTBED_CACHE  $BF_CACHE/bench          (downloads and built tools, kept between runs and clones)
#   TESTBED_ENV    $TESTBED_DIR/env           (KEY=value lines that tests source)
# TESTBED_DIR and TESTBED_CACHE may be set by the caller (e.g. a test that wants a private registry:
# TESTBED_DIR=$tmp REGISTRY_PORT=N registry.sh start -> $tmp/env).
#
# Functions: bench_log, bench_die, bench_env_set KEY=VALUE..., bench_env_unset KEY...,
# bench_env_get KEY, bench_wait_until TIMEOUT DESC CMD..., bench_pid_alive PID,
# bench_pidfile_alive FILE, bench_stop_pidfile FILE [NAME] [GRACE], bench_port_open PORT [HOST],
# bench_wait_port_free PORT [TIMEOUT], bench_spawn PIDFILE LOGFILE CMD..., bench_lock NAME [TIMEOUT]

BF_ROOT="${BF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TESTBED_DIR="${TESTBED_DIR:-$BF_ROOT/.testbed}"
# Downloads and built tools live in the machine-wide build cache (scripts/cache-env), so a fresh
# clone on the same machine (CI's) reuses them; everything in it is keyed by its inputs.
BF_CACHE="${BF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blackfriday-operator}"
TESTBED_CACHE="${TESTBED_CACHE:-$BF_CACHE/bench}"
# always next to TESTBED_DIR: an inherited TESTBED_ENV (scripts/test exports it for suites to read)
# must not make a bench started with another TESTBED_DIR write into the main .testbed/env
TESTBED_ENV="$TESTBED_DIR/env"
export BF_ROOT BF_CACHE TESTBED_DIR TESTBED_CACHE TESTBED_ENV
mkdir -p "$TESTBED_DIR" "$TESTBED_CACHE"

bench_log() { printf '[bench %s] %s\n' "${BENCH_SVC:-}" "$*" >&2; }
bench_die() { bench_log "ERROR: $*"; exit 1; }

# Run "$@" while holding the lock on .testbed/env (several services may start in parallel).
_bench_env_locked() {
  local lock="$TESTBED_DIR/.env.lock"
  if command -v flock >/dev/null 2>&1; then
    ( flock -w 30 9 || exit 1; "$@" ) 9>"$lock"
  else
    "$@"
  fi
}

_bench_env_set_unlocked() {
  local tmp="$TESTBED_ENV.tmp.$$" kv key keys=()
  for kv in "$@"; do keys+=("${kv%%=*}"); done
  touch "$TESTBED_ENV"
  # keep every line that is not one of our keys, then append ours
  awk -v keys="${keys[*]}" 'BEGIN{n=split(keys,a," "); for(i=1;i<=n;i++) k[a[i]]=1}
       { split($0,p,"="); if (!(p[1] in k)) print }' "$TESTBED_ENV" > "$tmp"
  for kv in "$@"; do
    key="${kv%%=*}"
    printf '%s=%q\n' "$key" "${kv#*=}" >> "$tmp"
  done
  mv "$tmp" "$TESTBED_ENV"
}

_bench_env_unset_unlocked() {
  local tmp="$TESTBED_ENV.tmp.$$"
  [ -f "$TESTBED_ENV" ] || return 0
  awk -v keys="$*" 'BEGIN{n=split(keys,a," "); for(i=1;i<=n;i++) k[a[i]]=1}
       { split($0,p,"="); if (!(p[1] in k)) print }' "$TESTBED_ENV" > "$tmp"
  mv "$tmp" "$TESTBED_ENV"
}

# bench_env_set KEY=VALUE ...: replace (or add) these keys in .testbed/env, keep every other line.
bench_env_set() { _bench_env_locked _bench_env_set_unlocked "$@"; }
# bench_env_unset KEY ...: drop these keys from .testbed/env.
bench_env_unset() { _bench_env_locked _bench_env_unset_unlocked "$@"; }
# bench_env_get KEY: print the value of KEY from .testbed/env (empty if missing).
bench_env_get() {
  [ -f "$TESTBED_ENV" ] || return 0
  ( set +u; set -a; . "$TESTBED_ENV" >/dev/null 2>&1; eval "printf '%s' \"\${$1:-}\"" )
}

# bench_wait_until TIMEOUT_SECONDS DESCRIPTION CMD...: poll CMD every 0.25 s until it succeeds.
bench_wait_until() {
  local timeout="$1" desc="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      bench_log "timed out after ${timeout}s waiting for: $desc"
      return 1
    fi
    sleep 0.25
  done
}

# bench_pid_alive PID: true when PID runs (a zombie waiting for its reaper counts as gone).
bench_pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local st
  st="$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
  [ "$st" != Z ]
}
bench_pidfile_alive() { [ -f "$1" ] && bench_pid_alive "$(cat "$1" 2>/dev/null)"; }

# bench_stop_pidfile PIDFILE [NAME] [GRACE_SECONDS]: SIGTERM the pid, wait, then SIGKILL.
bench_stop_pidfile() {
  local pidfile="$1" name="${2:-process}" grace="${3:-20}" pid i
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if bench_pid_alive "$pid"; then
    bench_log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 4; i++)); do
      bench_pid_alive "$pid" || break
      sleep 0.25
    done
    if bench_pid_alive "$pid"; then
      bench_log "$name did not stop in ${grace}s, killing"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$pidfile"
}

# bench_port_open PORT [HOST]: true when something accepts TCP connections there.
bench_port_open() {
  local port="$1" host="${2:-127.0.0.1}"
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# bench_wait_port_free PORT [TIMEOUT]: wait until nothing listens on PORT.
bench_wait_port_free() {
  local port="$1" timeout="${2:-20}" i
  for ((i = 0; i < timeout * 4; i++)); do
    bench_port_open "$port" || return 0
    sleep 0.25
  done
  return 1
}

# bench_listener_pid PORT: pid of the process listening on 127.0.0.1:PORT (needs ss), or nothing.
bench_listener_pid() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1
}

# bench_stop_stale PORT HOST DIR WHAT GRACE PATTERN...: a bench service that holds PORT but that no
# pid file tracks (its run died, or another checkout started it) is stopped when its command line
# matches one of the glob PATTERNs (only ours: config files under a .testbed/ folder); anything
# else on the port ends the script with its name, never a kill. DIR holds the transient pid file.
bench_stop_stale() {
  local port="$1" host="$2" dir="$3" what="$4" grace="$5" pid cmd pattern
  shift 5
  bench_port_open "$port" "$host" || return 0
  pid="$(bench_listener_pid "$port")"
  [ -n "$pid" ] || bench_die "port $port is in use and its owner is unknown; free it first"
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)"
  for pattern in "$@"; do
    # shellcheck disable=SC2254  # the pattern is a glob on purpose
    case "$cmd" in
      $pattern)
        bench_log "stopping stale $what (pid $pid) on port $port"
        echo "$pid" > "$dir/stale.pid"
        bench_stop_pidfile "$dir/stale.pid" "stale $what" "$grace"
        return 0 ;;
    esac
  done
  bench_die "port $port is used by another program (pid $pid: ${cmd:0:120})"
}

# bench_lock NAME [TIMEOUT]: serialise start/stop of one service across processes (two people or
# two test runs starting Kafka at once). Holds an flock on fd 8 until the script exits; processes
# started with bench_spawn / bench_daemon do not inherit it.
bench_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 8>"$TESTBED_DIR/.$1.lock"
  flock -w "${2:-300}" 8 || bench_die "could not lock $1 (another start/stop still running?)"
}

# bench_spawn PIDFILE LOGFILE CMD...: start CMD detached in its own session, record its pid.
bench_spawn() {
  local pidfile="$1" logfile="$2"; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" >>"$logfile" 2>&1 < /dev/null 8>&- &
  else
    nohup "$@" >>"$logfile" 2>&1 < /dev/null 8>&- &
  fi
  echo $! > "$pidfile"
}
