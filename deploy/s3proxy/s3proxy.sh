#!/usr/bin/env bash
# A dev/test S3-compatible server: s3proxy (org.gaul:s3proxy, Maven Central) on its
# filesystem backend, for the blob store's S3 adapter (banli/blobs/s3.py).
#
#   s3proxy.sh fetch                      jars -> $BANLI_S3PROXY_HOME/libs (cached)
#   s3proxy.sh start [--port P] [--dir D] [--keep]
#   s3proxy.sh stop   [--port P | --dir D]
#   s3proxy.sh status [--port P | --dir D]
#   s3proxy.sh log    [--port P | --dir D]  tail of the server's log
#
# Defaults: P=9000, D=$BANLI_S3PROXY_HOME/run-P,
#           BANLI_S3PROXY_HOME=$HOME/.cache/banli/s3proxy.
# `start` wipes D/data (the buckets) unless --keep is given, serves S3 on
# 127.0.0.1:P (AWS signatures v2 and v4; path-style addressing), waits until it
# answers and prints its endpoint (http://127.0.0.1:P) on stdout; progress goes
# to stderr. Create buckets with any S3 client (Banli never creates one).
#
# Dev/test credentials, public: access key banli-dev, secret banli-dev-secret
# (BANLI_S3PROXY_IDENTITY, BANLI_S3PROXY_CREDENTIAL override them).
#
# Environment:
#   BANLI_S3PROXY_HOME           cache root (jars, default run dirs)
#   BANLI_S3PROXY_JAVA_OPTS      JVM options, default "-Xms32m -Xmx256m -XX:+UseSerialGC"
#   BANLI_S3PROXY_START_TIMEOUT  seconds to wait for readiness, default 60
#   BANLI_S3PROXY_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL, default 20
#   JAVA_HOME                    java to use (else `java` on PATH; needs >= 17)
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"
LOGBACK="$SCRIPT_DIR/logback.xml"
HOME_DIR="${BANLI_S3PROXY_HOME:-${HOME:-/root}/.cache/banli/s3proxy}"
LIBS="$HOME_DIR/libs"
PORTS_DIR="$HOME_DIR/ports"   # port -> run dir, so `stop --port P` finds it
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
START_TIMEOUT="${BANLI_S3PROXY_START_TIMEOUT:-60}"
STOP_TIMEOUT="${BANLI_S3PROXY_STOP_TIMEOUT:-20}"
IDENTITY="${BANLI_S3PROXY_IDENTITY:-banli-dev}"
CREDENTIAL="${BANLI_S3PROXY_CREDENTIAL:-banli-dev-secret}"

log() { printf 's3proxy.sh: %s\n' "$*" >&2; }
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

    mkdir -p "$HOME_DIR"
    exec 9>"$HOME_DIR/.fetch.lock"   # serialise concurrent fetches (two sessions, a cold cache)
    if command -v flock >/dev/null; then flock 9; fi
    if [[ -f "$stamp" ]]; then exec 9>&-; return 0; fi

    local tmp="$HOME_DIR/libs.tmp.$$"
    rm -rf "$tmp"
    local mvn_args=(-B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies
                    -DincludeScope=runtime -DoutputDirectory="$tmp")
    local t0=$SECONDS
    if mvn -o "${mvn_args[@]}" >/dev/null 2>&1; then   # a warm ~/.m2 needs no network
        log "jars copied from the local Maven repository (offline)"
    else
        rm -rf "$tmp"
        log "downloading s3proxy's jars from Maven Central ..."
        mvn "${mvn_args[@]}" >&2 || { rm -rf "$tmp"; die "mvn dependency:copy-dependencies failed"; }
    fi
    ls "$tmp"/s3proxy-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "no s3proxy jar in $tmp"; }
    touch "$tmp/.stamp-$hash"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    exec 9>&-
    log "jars ready in $LIBS ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- helpers
PORT=9000 DIR="" KEEP=0
parse_opts() {
    while (($#)); do
        case "$1" in
            --port) PORT="${2:?--port needs a value}"; shift 2 ;;
            --port=*) PORT="${1#*=}"; shift ;;
            --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
            --dir=*) DIR="${1#*=}"; shift ;;
            --keep) KEEP=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option: $1" ;;
        esac
    done
    [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad --port: $PORT"
}

resolve_dir() {
    if [[ -n "$DIR" ]]; then :
    elif [[ -f "$PORTS_DIR/$PORT" ]]; then DIR="$(<"$PORTS_DIR/$PORT")"
    else DIR="$HOME_DIR/run-$PORT"
    fi
    if [[ -d "$DIR" ]]; then DIR="$(cd -- "$DIR" && pwd -P)"; fi
}

alive() { kill -0 "$1" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid of the server running from $DIR, or nothing
running_pid() {
    local pidfile="$DIR/s3proxy.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(<"$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    # guard against a recycled pid: must be our JVM for this dir
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F "$DIR/s3proxy.conf" >/dev/null || return 1
    printf '%s\n' "$pid"
}

# An S3 answer to an anonymous request (403 AccessDenied): the server is serving.
answers() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$PORT" >&3
    local status
    IFS= read -r -t 5 status <&3 || status=""
    exec 3<&-
    [[ "$status" == HTTP/1.1\ * ]]
}

# ---------------------------------------------------------------- start
cmd_start() {
    parse_opts "$@"
    [[ -n "$DIR" ]] || DIR="$HOME_DIR/run-$PORT"
    mkdir -p "$DIR"
    DIR="$(cd -- "$DIR" && pwd -P)"

    local pid
    if pid="$(running_pid)"; then
        log "already running (pid $pid, dir $DIR)"
        printf 'http://127.0.0.1:%s\n' "$PORT"
        return 0
    fi
    port_open "$PORT" && die "port $PORT is in use by another process"

    local jver
    jver="$("$JAVA" -XshowSettings:properties -version 2>&1 \
            | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')" \
        || die "java not found (need Java >= 17; set JAVA_HOME)"
    [[ -n "$jver" ]] && ((jver >= 17)) || die "s3proxy 4 needs Java >= 17, $JAVA is ${jver:-unknown}"
    cmd_fetch

    ((KEEP)) || rm -rf -- "$DIR/data"
    mkdir -p "$DIR/data"
    cat >"$DIR/s3proxy.conf" <<EOF
# Written by deploy/s3proxy/s3proxy.sh: dev/test S3 on the filesystem.
s3proxy.endpoint=http://127.0.0.1:$PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$IDENTITY
s3proxy.credential=$CREDENTIAL
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$DIR/data
EOF
    chmod 600 "$DIR/s3proxy.conf"
    mkdir -p "$PORTS_DIR"
    printf '%s\n' "$DIR" >"$PORTS_DIR/$PORT"

    local opts=(${BANLI_S3PROXY_JAVA_OPTS:--Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1})
    ((KEEP)) || : >"$DIR/s3proxy.log"
    local t0=$SECONDS
    nohup "$JAVA" "${opts[@]}" -Dlogback.configurationFile="$LOGBACK" -cp "$LIBS/*" \
        org.gaul.s3proxy.Main --properties "$DIR/s3proxy.conf" >>"$DIR/s3proxy.log" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$DIR/s3proxy.pid"
    log "started pid $pid, log $DIR/s3proxy.log; waiting for 127.0.0.1:$PORT ..."

    local deadline=$((SECONDS + START_TIMEOUT))
    until port_open "$PORT" && answers; do
        if ! alive "$pid"; then
            tail -n 40 "$DIR/s3proxy.log" >&2 || true
            rm -f "$DIR/s3proxy.pid"
            die "s3proxy exited during startup (log: $DIR/s3proxy.log)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 40 "$DIR/s3proxy.log" >&2 || true
            kill -KILL "$pid" 2>/dev/null || true
            rm -f "$DIR/s3proxy.pid"
            die "s3proxy not ready after ${START_TIMEOUT}s, killed it (log: $DIR/s3proxy.log)"
        fi
        sleep 0.2
    done
    log "ready in $((SECONDS - t0)) s (pid $pid, dir $DIR)"
    printf 'http://127.0.0.1:%s\n' "$PORT"
}

# ---------------------------------------------------------------- stop
cmd_stop() {
    parse_opts "$@"
    resolve_dir
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$DIR/s3proxy.pid"
        log "not running (dir $DIR)"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
        log "pid $pid still alive after ${STOP_TIMEOUT}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$DIR/s3proxy.pid"
    log "stopped pid $pid (dir $DIR)"
}

cmd_status() {
    parse_opts "$@"
    resolve_dir
    local pid
    if pid="$(running_pid)"; then
        echo "running: pid $pid, endpoint $(sed -n 's/^s3proxy.endpoint=//p' "$DIR/s3proxy.conf"), dir $DIR"
        return 0
    fi
    echo "not running (dir $DIR)"
    return 3
}

cmd_log() {
    parse_opts "$@"
    resolve_dir
    tail -n 100 "$DIR/s3proxy.log"
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
