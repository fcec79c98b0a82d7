#!/usr/bin/env bash
# Set-up for the main job (scripts/main-job), Locust and the dashboard tools. Idempotent.
#  - PyPI: locust, matplotlib, jsonschema, PyYAML, valkey (locust/requirements.txt,
#    tools/dashboard/requirements.txt); installed only when an import is missing or a pin differs
#  - npm: tools/dashboard (@grafana/schema + ts-json-schema-generator + ajv) from the committed
#    package-lock.json (`npm ci`), only when node_modules is missing or older than the lock
#  - Debian: nodejs + npm when missing
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "60-main-job: $*" >&2; }

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  log "apt-get install nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# Python: "name==ver" must match exactly; "name>=x" or bare names only need to be importable.
reqs=()
while read -r line; do
  line="${line%%#*}"; line="$(echo "$line" | xargs)"
  [ -n "$line" ] && reqs+=("$line")
done < <(cat "$ROOT/locust/requirements.txt" "$ROOT/tools/dashboard/requirements.txt")
missing=()
for spec in "${reqs[@]}"; do
  if ! python3 - "$spec" <<'PY' 2>/dev/null
import re, sys
from importlib.metadata import version
spec = sys.argv[1]
m = re.match(r"([A-Za-z0-9_.\-]+)\s*(==|>=)?\s*([^\s;]*)", spec)
name, op, want = m.group(1), m.group(2), m.group(3)
have = version(name)
if op == "==" and have != want:
    raise SystemExit(1)
if op == ">=":
    t = lambda v: tuple(int(x) for x in re.findall(r"\d+", v)[:3])
    if t(have) < t(want):
        raise SystemExit(1)
PY
  then missing+=("$spec"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "pip install ${missing[*]}"
  python3 -m pip install -q --disable-pip-version-check "${missing[@]}"
fi

cd "$ROOT/tools/dashboard"
if [ ! -d node_modules/@grafana/schema ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci (tools/dashboard)"
  nice npm ci --no-audit --no-fund --loglevel=error >&2
fi
log "ok: locust $(python3 -c 'import locust;print(locust.__version__)'), matplotlib $(python3 -c 'import matplotlib;print(matplotlib.__version__)'), @grafana/schema $(node -p 'require("./node_modules/@grafana/schema/package.json").version')"
