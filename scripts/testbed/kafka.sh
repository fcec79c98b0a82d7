#!/usr/bin/env bash
# A real Apache Kafka broker (jars from Maven Central), KRaft single node, combined mode.
#
#   kafka.sh start                  fetch jars if needed, start (or reuse) the broker, wait for metadata
#   kafka.sh stop                   stop it (data is wiped on the next fresh start)
#   kafka.sh status                 exit 0 when the broker answers metadata
#   kafka.sh topic NAME PARTITIONS  create a topic (replication factor 1; no-op if it exists)
#   kafka.sh topics                 list topics
#   kafka.sh jars                   only fetch the jars into .testbed/cache/kafka-lib
#   kafka.sh java CLASS ARGS...     run any class from the Kafka jars (e.g. org.apache.kafka.tools.ConsumerGroupCommand)
#
# Broker: PLAINTEXT 127.0.0.1:19092, controller 127.0.0.1:19093, auto.create.topics.enable=false
# (set KAFKA_AUTO_CREATE=true before a fresh start to turn it on). State under .testbed/kafka/.
# Tunables: KAFKA_HEAP (default -Xms256m -Xmx512m), KAFKA_JVM_OPTS, KAFKA_START_TIMEOUT (s, 120),
# KAFKA_EXTRA_PROPS (whitespace-separated key=value server properties appended after the defaults;
# a key given twice takes the later value, as java.util.Properties reads it: e.g.
# KAFKA_EXTRA_PROPS='num.network.threads=1 num.io.threads=1' for an A/B, docs/capacity.md),
# JAVA_HOME, KAFKA_HOST (default 127.0.0.1: the address it listens on and advertises; the bench
# node runs a broker of its own on the node IP, which pods reach). A fresh start wipes the data
# dir; a running healthy broker is reused as it is.
# Writes KAFKA_BOOTSTRAP=127.0.0.1:19092 to .testbed/env.
#
# KAFKA_SASL=1 (= scripts/testbed/kafka-sasl.sh) runs a second, separate broker with authentication:
# SASL_SSL on KAFKA_SASL_PORT (default KAFKA_PORT+2; controller KAFKA_SASL_CONTROLLER_PORT, default
# KAFKA_PORT+3), SCRAM-SHA-512 only, ACLs enforced by KRaft's StandardAuthorizer (no ACL = denied),
# a bench CA and a broker certificate made with openssl (SAN = KAFKA_HOST). The super user `admin`
# is created at storage-format time (`StorageTool format --add-scram`) with a random password; tests
# add users and ACLs through it. State under .testbed/kafka-sasl/. Writes KAFKA_SASL_BOOTSTRAP,
# KAFKA_SASL_CA_FILE, KAFKA_SASL_ADMIN_USER, KAFKA_SASL_ADMIN_PASSWORD to .testbed/env. The plain
# broker is untouched. SASL_SSL rather than SASL_PLAINTEXT: it is the shape the operator renders for
# Strimzi (a `tls: true` listener with `scram-sha-512` authentication), so the programs' TLS path
# is tested too (docs/kafka-auth.md).
set -euo pipefail
KAFKA_SASL="${KAFKA_SASL:-0}"
if [ "$KAFKA_SASL" = 1 ]; then BENCH_SVC=kafka-sasl; else BENCH_SVC=kafka; fi
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_HOME_DIR="$TESTBED_DIR/kafka"
if [ "$KAFKA_SASL" = 1 ]; then
  KAFKA_CONTROLLER_PORT="${KAFKA_SASL_CONTROLLER_PORT:-$((KAFKA_PORT + 3))}"
  KAFKA_PORT="${KAFKA_SASL_PORT:-$((KAFKA_PORT + 2))}"
  KAFKA_HOME_DIR="$TESTBED_DIR/kafka-sasl"
  KAFKA_TLS_DIR="$KAFKA_HOME_DIR/tls"
  KAFKA_ADMIN_USER=admin
fi
KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"
KAFKA_DATA="$KAFKA_HOME_DIR/data"
KAFKA_PROPS="$KAFKA_HOME_DIR/server.properties"
KAFKA_LOG="$KAFKA_HOME_DIR/broker.log"
KAFKA_PID="$KAFKA_HOME_DIR/kafka.pid"
KAFKA_POM="$BF_ROOT/tools/kafka/pom.xml"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
JAVA="${JAVA:-java}"
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA="$JAVA_HOME/bin/java"; fi

pom_stamp() { sha256sum "$KAFKA_POM" | cut -c1-16; }
# One folder per POM content in the machine-wide cache: clones with different POMs (branches,
# worktrees, CI's fresh clone) never delete or half-write the jar set another one is running on.
KAFKA_LIB="$TESTBED_CACHE/kafka-lib-$(pom_stamp)"

ensure_jars() {
  [ -f "$KAFKA_LIB/.stamp" ] && return 0
  mkdir -p "$TESTBED_CACHE"
  # one fetcher per machine at a time; whoever waited finds the set ready
  exec 7>"$TESTBED_CACHE/.kafka-lib.lock"
  flock -w 600 7 || bench_die "could not lock $TESTBED_CACHE/.kafka-lib.lock (another Maven fetch still running?)"
  if [ -f "$KAFKA_LIB/.stamp" ]; then exec 7>&-; return 0; fi
  command -v mvn >/dev/null || bench_die "mvn not found (Maven is needed to fetch the Kafka jars)"
  bench_log "fetching Kafka jars with Maven into $KAFKA_LIB (first run only)"
  local t0; t0=$(date +%s)
  rm -rf "$KAFKA_LIB.tmp"
  # output to a log (quiet mode still prints bare colour resets); shown when Maven fails
  if ! nice mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB.tmp" > "$KAFKA_LIB.mvn.log" 2>&1; then
    tail -n 40 "$KAFKA_LIB.mvn.log" >&2
    bench_die "Maven could not fetch the Kafka jars (log: $KAFKA_LIB.mvn.log)"
  fi
  pom_stamp > "$KAFKA_LIB.tmp/.stamp"
  mv "$KAFKA_LIB.tmp" "$KAFKA_LIB"
  exec 7>&-
  bench_log "jars ready in $(( $(date +%s) - t0 ))s ($(ls "$KAFKA_LIB" | wc -l) files)"
}

kjava() { # run a Kafka CLI class quietly
  "$JAVA" -Xms64m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$BF_ROOT/tools/kafka/log4j2-tools.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}

ready() {
  if [ "$KAFKA_SASL" = 1 ]; then
    # Metadata needs a login here, so the plain probe cannot ask; the broker logs this line once
    # its listeners accept clients, and the TLS port must complete a handshake checked with our CA.
    grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null && tls_answers
  else
    python3 "$BF_ROOT/tools/kafka/probe.py" "$KAFKA_BOOTSTRAP" --quiet
  fi
}

tls_answers() {
  timeout 10 openssl s_client -connect "$KAFKA_BOOTSTRAP" -CAfile "$KAFKA_TLS_DIR/ca.pem" \
    -verify_return_error -verify_ip "$KAFKA_HOST" </dev/null >/dev/null 2>&1
}

# A bench CA and a broker certificate for KAFKA_HOST (an IP SAN: clients verify the host), valid
# 30 days and remade a day before they expire; the key is unencrypted PKCS#8, which Kafka's PEM
# keystore reads.
make_tls() {
  local d="$KAFKA_TLS_DIR"
  mkdir -p "$d"
  if [ -f "$d/broker.pem" ] && [ "$(cat "$d/host" 2>/dev/null)" = "$KAFKA_HOST" ] \
      && openssl x509 -checkend 86400 -noout -in "$d/broker.crt" >/dev/null 2>&1; then
    return 0
  fi
  rm -f "$d"/*
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 \
    -subj "/CN=blackfriday bench Kafka CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$d/broker.key" -out "$d/broker.csr" \
    -subj "/CN=$KAFKA_HOST" 2>/dev/null
  printf 'subjectAltName=IP:%s,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$KAFKA_HOST" > "$d/ext.cnf"
  openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/broker.crt" -days 30 -extfile "$d/ext.cnf" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$d/broker.key" -out "$d/broker.p8"
  cat "$d/broker.p8" "$d/broker.crt" > "$d/broker.pem"
  echo "$KAFKA_HOST" > "$d/host"
  chmod 600 "$d"/*.key "$d/broker.p8" "$d/broker.pem"
}

# Listener settings: PLAINTEXT for the plain bench broker; SASL_SSL + SCRAM-SHA-512 + ACLs for
# KAFKA_SASL=1. The controller listener stays PLAINTEXT on loopback: KRaft authorizes the
# broker-to-controller requests on it as User:ANONYMOUS, hence that super-user entry (Kafka's
# documented KRaft set-up for a PLAINTEXT controller listener; Strimzi secures it with mTLS).
listener_props() {
  if [ "$KAFKA_SASL" != 1 ]; then
    printf '%s\n' \
      "listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT" \
      "advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT" \
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT" \
      "inter.broker.listener.name=PLAINTEXT"
    return 0
  fi
  printf '%s\n' \
    "listeners=SASL_SSL://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT" \
    "advertised.listeners=SASL_SSL://$KAFKA_HOST:$KAFKA_PORT" \
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL" \
    "inter.broker.listener.name=SASL_SSL" \
    "sasl.enabled.mechanisms=SCRAM-SHA-512" \
    "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512" \
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$KAFKA_ADMIN_USER\" password=\"$(admin_password)\";" \
    "ssl.keystore.type=PEM" \
    "ssl.keystore.location=$KAFKA_TLS_DIR/broker.pem" \
    "ssl.truststore.type=PEM" \
    "ssl.truststore.location=$KAFKA_TLS_DIR/ca.pem" \
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" \
    "allow.everyone.if.no.acl.found=false" \
    "super.users=User:$KAFKA_ADMIN_USER;User:ANONYMOUS"
}

admin_password() { cat "$KAFKA_HOME_DIR/admin.password"; }

write_props() {
  mkdir -p "$KAFKA_HOME_DIR"
  cat > "$KAFKA_PROPS" <<EOF
# generated by scripts/testbed/kafka.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
$(listener_props)
controller.listener.names=CONTROLLER
log.dirs=$KAFKA_DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.recovery.threads.per.data.dir=1
num.network.threads=2
num.io.threads=2
background.threads=2
log.flush.interval.messages=9223372036854775807
auto.create.topics.enable=${KAFKA_AUTO_CREATE:-false}
delete.topic.enable=true
EOF
  local kv kvs
  read -ra kvs <<< "${KAFKA_EXTRA_PROPS:-}"   # words, never globbed
  for kv in "${kvs[@]}"; do
    [[ "$kv" == *=* ]] || bench_die "KAFKA_EXTRA_PROPS: key=value words, not '$kv'"
    printf '%s\n' "$kv" >> "$KAFKA_PROPS"
  done
}

# Stop a broker of this bench (this checkout or another) that holds our ports but that our pid
# file does not track (a stale run); anything else on the ports is reported, never killed.
kill_stale() {
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    bench_stop_stale "$port" "$KAFKA_HOST" "$KAFKA_HOME_DIR" "Kafka bench broker" 20 \
      '*kafka.Kafka*/.testbed/kafka/server.properties*' \
      '*kafka.Kafka*/.testbed/kafka-sasl/server.properties*' \
      '*kafka.Kafka*/.testbed/node/kafka/server.properties*'
  done
}

start() {
  mkdir -p "$KAFKA_HOME_DIR"
  if bench_pidfile_alive "$KAFKA_PID" && ready; then
    bench_log "already running (pid $(cat "$KAFKA_PID")), reusing it"
    publish_env
    return 0
  fi
  bench_stop_pidfile "$KAFKA_PID" "unhealthy broker" 20
  ensure_jars
  kill_stale
  bench_wait_port_free "$KAFKA_PORT" 20 || bench_die "port $KAFKA_PORT still busy"
  local scram=()
  if [ "$KAFKA_SASL" = 1 ]; then
    make_tls
    (umask 077; openssl rand -hex 16 > "$KAFKA_HOME_DIR/admin.password")
    # the super user exists before the first start: KRaft keeps SCRAM credentials in its metadata
    scram=(--add-scram "SCRAM-SHA-512=[name=$KAFKA_ADMIN_USER,password=$(admin_password)]")
  fi
  write_props
  rm -rf "$KAFKA_DATA"
  local cid t0
  t0=$(date +%s)
  # a random Kafka Uuid (22 chars of URL-safe base64), as `StorageTool random-uuid` prints it, without
  # paying for one more JVM start; Kafka never hands out ids whose text starts with '-'
  cid="$(python3 -c 'import base64,os
while True:
    s=base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"): print(s); break')"
  local tf; tf=$(date +%s%N)
  kjava kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" "${scram[@]}" >/dev/null
  bench_log "storage formatted in $(( ($(date +%s%N) - tf) / 1000000 ))ms"
  : > "$KAFKA_LOG"
  bench_log "starting broker (cluster $cid), log: $KAFKA_LOG"
  # shellcheck disable=SC2086
  bench_spawn "$KAFKA_PID" "$KAFKA_LOG" "$JAVA" $KAFKA_HEAP $KAFKA_JVM_OPTS \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$BF_ROOT/tools/kafka/log4j2.properties" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_PROPS"
  local deadline=$(( $(date +%s) + KAFKA_START_TIMEOUT ))
  until ready; do
    if ! bench_pidfile_alive "$KAFKA_PID"; then
      tail -n 40 "$KAFKA_LOG" >&2 || true
      bench_die "broker exited during start-up (see $KAFKA_LOG)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 40 "$KAFKA_LOG" >&2 || true
      bench_die "broker not ready after ${KAFKA_START_TIMEOUT}s (see $KAFKA_LOG)"
    fi
    sleep 0.5
  done
  bench_log "ready on $KAFKA_BOOTSTRAP in $(( $(date +%s) - t0 ))s (pid $(cat "$KAFKA_PID"))"
  publish_env
}

# The keys clients read from .testbed/env.
publish_env() {
  if [ "$KAFKA_SASL" = 1 ]; then
    bench_env_set "KAFKA_SASL_BOOTSTRAP=$KAFKA_BOOTSTRAP" "KAFKA_SASL_CA_FILE=$KAFKA_TLS_DIR/ca.pem" \
      "KAFKA_SASL_ADMIN_USER=$KAFKA_ADMIN_USER" "KAFKA_SASL_ADMIN_PASSWORD=$(admin_password)"
  else
    bench_env_set "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"
  fi
}

stop() {
  bench_stop_pidfile "$KAFKA_PID" "Kafka broker" 30
  if [ "$KAFKA_SASL" = 1 ]; then
    bench_env_unset KAFKA_SASL_BOOTSTRAP KAFKA_SASL_CA_FILE KAFKA_SASL_ADMIN_USER KAFKA_SASL_ADMIN_PASSWORD
  else
    bench_env_unset KAFKA_BOOTSTRAP
  fi
}

status() {
  if bench_pidfile_alive "$KAFKA_PID" && ready; then
    echo "$BENCH_SVC: running (pid $(cat "$KAFKA_PID")) on $KAFKA_BOOTSTRAP"
  else
    echo "$BENCH_SVC: not running"; return 1
  fi
}

topic() {
  [ $# -ge 1 ] || bench_die "usage: kafka.sh topic NAME [PARTITIONS]"
  local name="$1" parts="${2:-1}"
  [ "$KAFKA_SASL" != 1 ] || bench_die "topic/topics are for the plain broker (SASL: create topics as the admin user)"
  ready || bench_die "broker is not running (kafka.sh start)"
  kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --create \
    --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1
  bench_log "topic $name ready ($parts partitions)"
}

case "${1:-}" in
  start) bench_lock kafka; start ;;
  stop) bench_lock kafka; stop ;;
  status) status ;;
  restart) bench_lock kafka; stop; start ;;
  topic) shift; topic "$@" ;;
  topics) [ "$KAFKA_SASL" != 1 ] || bench_die "topics is for the plain broker"; ready || bench_die "broker is not running"; kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --list ;;
  jars) bench_lock kafka; ensure_jars ;;
  java) shift; ensure_jars; kjava "$@" ;;
  *) echo "usage: $0 start|stop|status|restart|topic NAME PARTITIONS|topics|jars|java CLASS ARGS..." >&2; exit 2 ;;
esac
