#!/usr/bin/env bash
# Installs perf (Debian's linux-perf) unless it is there: the flame graphs and the CPU split of
# scripts/benchmarks/pipeline (--flame, --cpu-split) sample with it.
command -v perf >/dev/null && exit 0
apt-get install -y --no-install-recommends linux-perf >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y --no-install-recommends linux-perf >/dev/null; }
