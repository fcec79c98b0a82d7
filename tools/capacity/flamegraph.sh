#!/usr/bin/env bash
# One flame graph of a running process (docs/capacity.md): perf (Debian's linux-perf) samples it
# with call stacks, inferno (the Rust port of FlameGraph, from the crate registry, built once per
# machine into the bench cache) folds the stacks and draws the SVG.
#
#   tools/capacity/flamegraph.sh PID SECONDS OUT.svg [TITLE]
#
# Go binaries keep frame pointers, so their stacks are whole. The release Rust binaries are built
# without them: for an executable built by cargo (rust-api, bf-loadgen) the stacks are unwound
# from DWARF call-frame information instead (perf --call-graph dwarf; .eh_frame is kept in
# release builds), at a lower rate because each sample copies 8 KiB of stack. perf cannot name a
# JVM's JIT-compiled frames, so a Java process (the Kafka broker) is sampled from inside instead,
# by async-profiler (tools.profiler:async-profiler from Maven Central, loaded into the running JVM
# with jcmd JVMTI.agent_load): its Java, JVM and kernel frames, folded the same way.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
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
ASYNC_PROFILER_VERSION=4.1
if [[ "$(readlink "/proc/$pid/exe")" == */java ]]; then
  lib="$BF_CACHE/bench/async-profiler-$ASYNC_PROFILER_VERSION/libasyncProfiler.so"
  if [ ! -f "$lib" ]; then
    jar="$HOME/.m2/repository/tools/profiler/async-profiler/$ASYNC_PROFILER_VERSION/async-profiler-$ASYNC_PROFILER_VERSION.jar"
    [ -f "$jar" ] || mvn -B -q dependency:get -Dartifact="tools.profiler:async-profiler:$ASYNC_PROFILER_VERSION" -Dtransitive=false >&2
    mkdir -p "$(dirname "$lib")"
    unzip -p "$jar" linux-x64/libasyncProfiler.so > "$lib.tmp" && mv "$lib.tmp" "$lib"
  fi
  # the option string is quoted once more: jcmd would otherwise read its '=' as named arguments
  jcmd "$pid" JVMTI.agent_load "$lib" "\"start,event=cpu,interval=2ms\"" | grep -q "return code: 0" \
    || { echo "flamegraph: async-profiler did not start in pid $pid" >&2; exit 1; }
  sleep "$secs"
  jcmd "$pid" JVMTI.agent_load "$lib" "\"stop,collapsed,file=$tmp/folded\"" >/dev/null
  chmod a+r "$tmp/folded" 2>/dev/null || true
  "$dir/bin/inferno-flamegraph" --title "$title" < "$tmp/folded" > "$out"
  echo "flamegraph: $out ($(wc -l < "$tmp/folded") distinct stacks, $secs s, async-profiler $ASYNC_PROFILER_VERSION cpu every 2 ms)"
  exit 0
fi
callgraph=(-F 499 -g) rate=499
case "$(readlink "/proc/$pid/exe")" in *target/release/*|*target/debug/*) callgraph=(-F 99 --call-graph dwarf,8192) rate=99 ;; esac
perf record -q "${callgraph[@]}" -p "$pid" -o "$tmp/perf.data" -- sleep "$secs" >/dev/null 2>&1
perf script -i "$tmp/perf.data" 2>/dev/null | "$dir/bin/inferno-collapse-perf" > "$tmp/folded"
"$dir/bin/inferno-flamegraph" --title "$title" < "$tmp/folded" > "$out"
echo "flamegraph: $out ($(wc -l < "$tmp/folded") distinct stacks, $secs s at $rate Hz, ${callgraph[*]:2})"
