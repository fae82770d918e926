#!/usr/bin/env bash
# A single-node Apache Kafka 4.x broker (KRaft, broker+controller in one JVM)
# for development and tests, run from Apache's own jars on Maven Central.
#
#   broker.sh fetch                      jars -> $BANLI_KAFKA_HOME/libs (cached)
#   broker.sh start [--port P] [--controller-port C] [--dir D] [--keep]
#   broker.sh stop  [--port P | --dir D]
#   broker.sh status [--port P | --dir D]
#   broker.sh log   [--port P | --dir D]  tail of the broker's log
#
# Defaults: P=9092, C=P+1, D=$BANLI_KAFKA_HOME/run-P,
#           BANLI_KAFKA_HOME=$HOME/.cache/banli/kafka.
# `start` wipes D/data and formats fresh storage unless --keep is given (then
# existing data is reused, and formatted only if it never was). It prints the
# bootstrap address (127.0.0.1:P) on stdout once the broker serves requests;
# progress goes to stderr.
#
# Environment:
#   BANLI_KAFKA_HOME           cache root (jars, default run dirs)
#   BANLI_KAFKA_HEAP_OPTS      default "-Xms128m -Xmx512m"
#   BANLI_KAFKA_JVM_OPTS       extra JVM options, appended
#   BANLI_KAFKA_START_TIMEOUT  seconds to wait for readiness, default 90
#   BANLI_KAFKA_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL, default 30
#   BANLI_KAFKA_EXTRA_PROPERTIES  lines appended to server.properties
#   JAVA_HOME                  java to use (else `java` on PATH; needs >= 17)
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_CONFIG="$SCRIPT_DIR/log4j2.properties"
KAFKA_HOME_DIR="${BANLI_KAFKA_HOME:-${HOME:-/root}/.cache/banli/kafka}"
LIBS="$KAFKA_HOME_DIR/libs"
PORTS_DIR="$KAFKA_HOME_DIR/ports"   # port -> run dir, so `stop --port P` finds it
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
START_TIMEOUT="${BANLI_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${BANLI_KAFKA_STOP_TIMEOUT:-30}"
READY_LINE='Kafka Server started'

log() { printf 'broker.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

pom_hash() { sha256sum "$POM" | cut -c1-16; }

# ---------------------------------------------------------------- fetch
cmd_fetch() {
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    local hash stamp
    hash="$(pom_hash)"
    stamp="$LIBS/.stamp-$hash"
    [[ -f "$stamp" ]] && { log "jars cached in $LIBS"; return 0; }

    mkdir -p "$KAFKA_HOME_DIR"
    # Serialise concurrent fetches (e.g. two test sessions on a cold cache).
    exec 9>"$KAFKA_HOME_DIR/.fetch.lock"
    if command -v flock >/dev/null; then flock 9; fi
    if [[ -f "$stamp" ]]; then exec 9>&-; return 0; fi

    local tmp="$KAFKA_HOME_DIR/libs.tmp.$$"
    rm -rf "$tmp"
    local mvn_args=(-B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies
                    -DincludeScope=runtime -DoutputDirectory="$tmp")
    local t0=$SECONDS
    # Offline first: a warm ~/.m2 needs no network at all.
    if mvn -o "${mvn_args[@]}" >/dev/null 2>&1; then
        log "jars copied from the local Maven repository (offline)"
    else
        rm -rf "$tmp"
        log "downloading Kafka jars from Maven Central ..."
        mvn "${mvn_args[@]}" >&2 || { rm -rf "$tmp"; die "mvn dependency:copy-dependencies failed"; }
    fi
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "no kafka jar in $tmp"; }
    touch "$tmp/.stamp-$hash"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    exec 9>&-
    log "jars ready in $LIBS ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- helpers
PORT=9092 CPORT="" DIR="" KEEP=0
parse_opts() {
    while (($#)); do
        case "$1" in
            --port) PORT="${2:?--port needs a value}"; shift 2 ;;
            --port=*) PORT="${1#*=}"; shift ;;
            --controller-port) CPORT="${2:?--controller-port needs a value}"; shift 2 ;;
            --controller-port=*) CPORT="${1#*=}"; shift ;;
            --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
            --dir=*) DIR="${1#*=}"; shift ;;
            --keep) KEEP=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option: $1" ;;
        esac
    done
    [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad --port: $PORT"
    [[ -z "$CPORT" || "$CPORT" =~ ^[0-9]+$ ]] || die "bad --controller-port: $CPORT"
}

# Run dir for stop/status: --dir, else the one `start` recorded for the port,
# else the default for the port.
resolve_dir() {
    if [[ -n "$DIR" ]]; then :
    elif [[ -f "$PORTS_DIR/$PORT" ]]; then DIR="$(<"$PORTS_DIR/$PORT")"
    else DIR="$KAFKA_HOME_DIR/run-$PORT"
    fi
    if [[ -d "$DIR" ]]; then DIR="$(cd -- "$DIR" && pwd -P)"; fi
}

# true while pid runs. A zombie (left for an init that may not reap it) is
# dead, but only once all its threads are gone: a SIGKILLed JVM's main thread
# turns zombie while the others still exit, and its sockets close after them.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    local state tasks
    state="$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)"
    [[ "$state" == Z || "$state" == X ]] || return 0
    tasks=("/proc/$1/task/"*)
    ((${#tasks[@]} > 1))
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid of the broker running from $DIR, or nothing
running_pid() {
    local pidfile="$DIR/kafka.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(<"$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    # guard against a recycled pid: must be our JVM for this dir
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F "$DIR/server.properties" >/dev/null || return 1
    printf '%s\n' "$pid"
}

props_port() {  # PLAINTEXT port written in $DIR/server.properties
    sed -n 's/^listeners=PLAINTEXT:\/\/127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$DIR/server.properties" 2>/dev/null
}

write_properties() {
    cat >"$DIR/server.properties" <<EOF
# Written by deploy/kafka/broker.sh: single-node KRaft broker for dev/tests.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
# After a crash (SIGKILL) the restarted node must wait for its old broker
# session to expire before it may register again: default 9 s, here 4 s.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
EOF
    if [[ -n "${BANLI_KAFKA_EXTRA_PROPERTIES:-}" ]]; then
        printf '# from BANLI_KAFKA_EXTRA_PROPERTIES (later keys win)\n%s\n' \
            "$BANLI_KAFKA_EXTRA_PROPERTIES" >>"$DIR/server.properties"
    fi
}

# ---------------------------------------------------------------- start
cmd_start() {
    parse_opts "$@"
    [[ -n "$CPORT" ]] || CPORT=$((PORT + 1))
    ((CPORT != PORT)) || die "controller port must differ from --port"
    [[ -n "$DIR" ]] || DIR="$KAFKA_HOME_DIR/run-$PORT"
    mkdir -p "$DIR"
    DIR="$(cd -- "$DIR" && pwd -P)"

    local pid
    if pid="$(running_pid)"; then
        if [[ "$(props_port)" == "$PORT" ]]; then
            log "already running (pid $pid, dir $DIR)"
            printf '127.0.0.1:%s\n' "$PORT"
            return 0
        fi
        die "a broker (pid $pid) already runs from $DIR on another port; stop it first"
    fi
    port_open "$PORT" && die "port $PORT is in use by another process"
    port_open "$CPORT" && die "controller port $CPORT is in use by another process"

    local jver
    jver="$("$JAVA" -XshowSettings:properties -version 2>&1 \
            | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')" \
        || die "java not found (need Java >= 17; set JAVA_HOME)"
    [[ -n "$jver" ]] && ((jver >= 17)) || die "Kafka 4 needs Java >= 17, $JAVA is ${jver:-unknown}"
    cmd_fetch
    local cp="$LIBS/*"

    if ((KEEP == 0)); then
        rm -rf -- "$DIR/data"
    fi
    mkdir -p "$DIR/data"
    write_properties

    local java_common=(-Dlog4j2.configurationFile="$LOG4J_CONFIG" -Djava.awt.headless=true)
    if [[ ! -f "$DIR/data/meta.properties" ]]; then
        local cluster_id
        cluster_id="$("$JAVA" "${java_common[@]}" -Xmx256m -cp "$cp" kafka.tools.StorageTool random-uuid | tail -n1)"
        [[ -n "$cluster_id" ]] || die "could not generate a cluster id"
        "$JAVA" "${java_common[@]}" -Xmx256m -cp "$cp" kafka.tools.StorageTool format \
            --standalone -t "$cluster_id" -c "$DIR/server.properties" >"$DIR/format.log" 2>&1 \
            || { cat "$DIR/format.log" >&2; die "storage format failed"; }
        log "formatted $DIR/data (cluster id $cluster_id)"
    else
        log "keeping existing data in $DIR/data"
    fi

    mkdir -p "$PORTS_DIR"
    printf '%s\n' "$DIR" >"$PORTS_DIR/$PORT"

    local heap=(${BANLI_KAFKA_HEAP_OPTS:--Xms128m -Xmx512m})
    local extra=(${BANLI_KAFKA_JVM_OPTS:-})
    ((KEEP)) || : >"$DIR/kafka.log"
    # Readiness is judged on what this run appends to the log (with --keep the
    # log keeps earlier runs' lines, startup line included).
    local log_offset
    log_offset=$(stat -c %s "$DIR/kafka.log" 2>/dev/null || echo 0)
    local t0=$SECONDS
    # -XX:+UseSerialGC: one small heap on a 2-core box; G1's threads buy nothing here.
    nohup "$JAVA" -server "${heap[@]}" -XX:+UseSerialGC "${java_common[@]}" "${extra[@]}" \
        -cp "$cp" kafka.Kafka "$DIR/server.properties" >>"$DIR/kafka.log" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$DIR/kafka.pid"
    log "started pid $pid, log $DIR/kafka.log; waiting for 127.0.0.1:$PORT ..."

    local deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        if ! alive "$pid"; then
            tail -n 40 "$DIR/kafka.log" >&2 || true
            rm -f "$DIR/kafka.pid"
            die "broker exited during startup (log: $DIR/kafka.log)"
        fi
        if port_open "$PORT" && tail -c "+$((log_offset + 1))" "$DIR/kafka.log" | grep -F "$READY_LINE" >/dev/null; then
            break
        fi
        if ((SECONDS >= deadline)); then
            tail -n 40 "$DIR/kafka.log" >&2 || true
            kill -KILL "$pid" 2>/dev/null || true   # leave no half-started JVM behind
            rm -f "$DIR/kafka.pid"
            die "broker not ready after ${START_TIMEOUT}s, killed it (log: $DIR/kafka.log)"
        fi
        sleep 0.25
    done
    log "ready in $((SECONDS - t0)) s (pid $pid, dir $DIR)"
    printf '127.0.0.1:%s\n' "$PORT"
}

# ---------------------------------------------------------------- stop
cmd_stop() {
    parse_opts "$@"
    resolve_dir
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$DIR/kafka.pid"
        log "not running (dir $DIR)"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if alive "$pid"; then
        log "pid $pid still alive after ${STOP_TIMEOUT}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$DIR/kafka.pid"
    log "stopped pid $pid (dir $DIR)"
}

# ---------------------------------------------------------------- status
cmd_status() {
    parse_opts "$@"
    resolve_dir
    local pid port
    if pid="$(running_pid)"; then
        port="$(props_port)"
        if port_open "${port:-$PORT}"; then
            echo "running: pid $pid, bootstrap 127.0.0.1:${port:-$PORT}, dir $DIR"
        else
            echo "starting: pid $pid, port ${port:-$PORT} not open yet, dir $DIR"
        fi
        return 0
    fi
    echo "not running (dir $DIR)"
    return 3
}

cmd_log() {
    parse_opts "$@"
    resolve_dir
    tail -n 100 "$DIR/kafka.log"
}

main() {
    local cmd="${1:-}"
    (($#)) && shift
    case "$cmd" in
        fetch) cmd_fetch ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        log) cmd_log "$@" ;;
        -h|--help|help) usage ;;
        *) usage; exit 2 ;;
    esac
}

main "$@"
