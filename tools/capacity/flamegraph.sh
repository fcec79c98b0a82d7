#!/usr/bin/env bash
# One flame graph of a running process (docs/capacity.md): perf (Debian's linux-perf) samples it
# with call stacks, inferno (the Rust port of FlameGraph, from the crate registry, built once per
# machine into the bench cache) folds the stacks and draws the SVG.
#
#   tools/capacity/flamegraph.sh PID SECONDS OUT.svg [TITLE]
#
# Go binaries keep frame pointers, so their stacks are whole; the release Rust binaries are built
# without them, so their graphs are mostly flat (the leaf functions), still enough to see where
# the time goes. A JVM (Kafka) shows as unsymbolised JIT frames: not useful without a JVM agent.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
pid="$1" secs="$2" out="$3" title="${4:-pid $1}"
[ -d "/proc/$pid" ] || { echo "flamegraph: no process $pid" >&2; exit 2; }
INFERNO_VERSION=0.12.8
BF_CACHE="${BF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blackfriday-operator}"
dir="$BF_CACHE/bench/inferno-$INFERNO_VERSION"
if [ ! -x "$dir/bin/inferno-flamegraph" ]; then
  echo "flamegraph: building inferno $INFERNO_VERSION into $dir (once per machine)" >&2
  nice cargo install inferno --version "$INFERNO_VERSION" --locked --root "$dir" >&2
fi
bash "$(dirname "${BASH_SOURCE[0]}")/need-perf.sh"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
perf record -q -F 499 -g -p "$pid" -o "$tmp/perf.data" -- sleep "$secs" >/dev/null 2>&1
perf script -i "$tmp/perf.data" 2>/dev/null | "$dir/bin/inferno-collapse-perf" > "$tmp/folded"
"$dir/bin/inferno-flamegraph" --title "$title" < "$tmp/folded" > "$out"
echo "flamegraph: $out ($(wc -l < "$tmp/folded") distinct stacks, $secs s at 499 Hz)"
