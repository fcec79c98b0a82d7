#!/usr/bin/env bash
# Strimzi's CRDs (Kafka, KafkaTopic, KafkaUser, KafkaNodePool; kafka.strimzi.io/v1) for the kube bench, written
# by Strimzi's own CRD generator from the released API classes — both from Maven Central:
#   io.strimzi:api:$STRIMZI_VERSION            the API model classes (no YAML inside)
#   io.strimzi:crd-generator:$STRIMZI_VERSION  a shaded jar with io.strimzi.crdgenerator.CrdGenerator
# run with the arguments of the `generate-crd-co-install-v1` execution in the api module's pom.xml
# (shipped inside the api jar as META-INF/maven/io.strimzi/api/pom.xml). The output must equal the
# release's packaging/install/cluster-operator/04*-Crd-*.yaml byte for byte: strimzi-$VERSION.sha256
# records their sha256 (tag 1.2.0, see SOURCES.md), and nothing that differs is used.
#
#   tools/k8s/upstream/strimzi-crds.sh        print the folder holding the three CRDs (build if needed)
#
# Cached, keyed by version and sums file, in ${BF_CACHE:-~/.cache/blackfriday-operator}/upstream/strimzi-<version>.
# Needs mvn and a Java >= 21 (the generator's class files are Java 21; JAVA21=/path/to/java picks
# one, else JAVA_HOME, `java` on PATH and /usr/lib/jvm/*/bin/java are tried).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the platform versions users install (config/platform/versions.sh: the one list)
# shellcheck source=../../../config/platform/versions.sh
. "$here/../../../config/platform/versions.sh"
V=$STRIMZI_VERSION
SUMS=$here/strimzi-$V.sha256
CACHE=${BF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blackfriday-operator}
DIR=$CACHE/upstream/strimzi-$V
# keyed by the list of CRDs and their sums too: clones that want another set of CRDs (e.g. before
# KafkaUser was added) share the jars but never each other's output
OUT=$DIR/crds-$(sha256sum "$SUMS" | cut -c1-12)

log() { echo "strimzi-crds: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

current() { [ -f "$OUT/.ok" ] && (cd "$OUT" && sha256sum --quiet -c "$SUMS") >/dev/null 2>&1; }

java_major() { # the Java specification version of a java binary (17, 21, 25, ...)
  "$1" -XshowSettings:properties -version 2>&1 \
    | awk -F= '/java.specification.version/ {gsub(/ /, "", $2); print $2}'
}
find_java() {
  local j m
  for j in "${JAVA21:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$j" ] && [ -x "$j" ] || continue
    m=$(java_major "$j")
    [[ "$m" =~ ^[0-9]+$ ]] && [ "$m" -ge 21 ] && { echo "$j"; return 0; }
  done
  return 1
}

if current; then echo "$OUT"; exit 0; fi
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock -w 600 9 || die "could not lock $DIR/.lock"
if current; then echo "$OUT"; exit 0; fi

command -v mvn >/dev/null || die "mvn missing (the polyglot machine ships Maven; apt-get install maven)"
JAVA=$(find_java) || die "no Java >= 21 found (Strimzi $V's CRD generator is built for Java 21); set JAVA21=/path/to/bin/java"
t0=$(date +%s)
log "fetching io.strimzi:api:$V and io.strimzi:crd-generator:$V (Maven), generating with $JAVA"
for a in api crd-generator; do
  mvn -B -q dependency:copy -Dartifact="io.strimzi:$a:$V" -DoutputDirectory="$DIR/jars" >"$DIR/mvn-$a.log" 2>&1 \
    || { tail -20 "$DIR/mvn-$a.log" >&2; die "mvn dependency:copy io.strimzi:$a:$V failed"; }
done
tmp=$(mktemp -d "$DIR/gen.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
# the classes and output files of the api module's generate-crd-co-install-v1 execution, with
# its arguments unchanged; only the four CRDs the operator writes objects of are asked for
"$JAVA" -cp "$DIR/jars/api-$V.jar:$DIR/jars/crd-generator-$V.jar" io.strimzi.crdgenerator.CrdGenerator \
  --label app:strimzi --label strimzi.io/crd-install:true --target-kube 1.16+ \
  --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
  "io.strimzi.api.kafka.model.kafka.Kafka=$tmp/040-Crd-kafka.yaml" \
  "io.strimzi.api.kafka.model.topic.KafkaTopic=$tmp/043-Crd-kafkatopic.yaml" \
  "io.strimzi.api.kafka.model.user.KafkaUser=$tmp/044-Crd-kafkauser.yaml" \
  "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$tmp/045-Crd-kafkanodepool.yaml" \
  >"$DIR/generate.log" 2>&1 || { tail -20 "$DIR/generate.log" >&2; die "CrdGenerator failed"; }
(cd "$tmp" && sha256sum -c "$SUMS" >&2) \
  || die "the generated CRDs differ from Strimzi $V's released ones ($SUMS); kept nothing"
touch "$tmp/.ok"
rm -rf "$OUT"; mv "$tmp" "$OUT"
log "Strimzi $V CRDs in $OUT ($(( $(date +%s) - t0 )) s)"
echo "$OUT"
