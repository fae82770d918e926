#!/usr/bin/env bash
# A dev/test Keycloak 26 (`kc.sh start-dev`: H2 file database, local caches)
# with the banli realm (deploy/keycloak/banli-realm.json), run from Keycloak's
# own distribution zip on Maven Central.
#
#   keycloak.sh fetch                       dist -> $BANLI_KEYCLOAK_HOME/dist (cached)
#   keycloak.sh start [--port P] [--data D] [--keep]
#   keycloak.sh stop   [--port P | --data D]
#   keycloak.sh status [--port P | --data D]
#   keycloak.sh log    [--port P | --data D]  tail of the server's log
#
# Defaults: P=8080, D=$BANLI_KEYCLOAK_HOME/run-P,
#           BANLI_KEYCLOAK_HOME=$HOME/.cache/banli/keycloak.
# `fetch` unpacks the zip (offline once ~/.m2 holds it), then runs start-dev
# once: Quarkus re-augments the dist for the dev profile (else the first start
# would, into the shared dist), and the database that run creates (schema and
# master realm) is kept as a seed, which `start` copies instead of paying for
# Liquibase and the master realm again (~5 s of ~12 s).
# `start` runs start-dev on 127.0.0.1:P with D as Keycloak's home (symlinks
# to the dist, its own data/, keycloak.log). It wipes D/data and starts from
# the seed unless --keep is given; it imports the realm file (--import-realm:
# a realm that already exists is left as it is), waits until the realm's
# discovery document is served and prints the issuer
# (http://127.0.0.1:P/realms/banli) on stdout; progress goes to stderr.
#
# Dev/test only, all public: the master realm's admin is admin/admin, the
# banli-web client's secret is banli-web-secret, passwords are <user>-pass.
#
# Environment:
#   BANLI_KEYCLOAK_HOME           cache root (dist, seed, default run dirs)
#   BANLI_KEYCLOAK_JAVA_OPTS      JVM options, replacing this script's
#   BANLI_KEYCLOAK_START_TIMEOUT  seconds to wait for readiness, default 120
#   BANLI_KEYCLOAK_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL, default 30
#   JAVA_HOME                     java to use (else `java` on PATH; needs >= 17)
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"
REALM_FILE="$SCRIPT_DIR/banli-realm.json"
KC_HOME_DIR="${BANLI_KEYCLOAK_HOME:-${HOME:-/root}/.cache/banli/keycloak}"
DIST="$KC_HOME_DIR/dist"
SEED="$DIST/banli-seed/keycloakdb.mv.db"
PORTS_DIR="$KC_HOME_DIR/ports"   # port -> run dir, so `stop --port P` finds it
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
START_TIMEOUT="${BANLI_KEYCLOAK_START_TIMEOUT:-120}"
STOP_TIMEOUT="${BANLI_KEYCLOAK_STOP_TIMEOUT:-30}"
REALM=banli
# kc.sh's defaults minus G1 and C2: on a 2-core box a short-lived test server
# starts ~30% faster on the serial collector and C1 only, in ~320 MB RSS.
JAVA_OPTS_DEFAULT="-XX:MetaspaceSize=96M -XX:MaxMetaspaceSize=256m -Xms64m -Xmx512m
 -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
 -Dfile.encoding=UTF-8 -Dsun.stdout.encoding=UTF-8 -Dsun.err.encoding=UTF-8
 -Dstdout.encoding=UTF-8 -Dstderr.encoding=UTF-8 -Djava.security.egd=file:/dev/urandom
 -Djdk.tls.rejectClientInitiatedRenegotiation=true"
# Bump when `fetch`'s preparation changes, so caches made by older scripts are redone.
PREPARE_REV=1

log() { printf 'keycloak.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

cache_key() { { cat "$POM"; echo "prepare $PREPARE_REV"; } | sha256sum | cut -c1-16; }

check_java() {
    local jver
    jver="$("$JAVA" -XshowSettings:properties -version 2>&1 \
            | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')" \
        || die "java not found (need Java >= 17; set JAVA_HOME)"
    [[ -n "$jver" ]] && ((jver >= 17)) || die "Keycloak 26 needs Java >= 17, $JAVA is ${jver:-unknown}"
}

# kc.sh runs java as its child; both run in a session of their own (setsid),
# so the process group is the handle: signals reach both, and a java whose
# kc.sh died is still found.
launch() {  # launch HOME LOGFILE kc.sh-args... ; sets LAUNCHED_PID (= its process group)
    local home="$1" logfile="$2"
    shift 2
    JAVA_OPTS="${BANLI_KEYCLOAK_JAVA_OPTS:-$JAVA_OPTS_DEFAULT}" \
        setsid nohup "$DIST/bin/kc.sh" "$@" "-Dkc.home.dir=$home" >>"$logfile" 2>&1 </dev/null &
    LAUNCHED_PID=$!
}

# Live pids in process group $1. A zombie (left for an init that may not reap
# it) is dead, but only once all its threads are gone: a SIGKILLed JVM's main
# thread turns zombie while the others still exit, and its sockets close after them.
group_pids() {
    local f st state pgrp pid tasks
    for f in /proc/[0-9]*/stat; do
        { IFS= read -r st <"$f"; } 2>/dev/null || continue
        st="${st##*) }"
        read -r state _ pgrp _ <<<"$st"
        [[ "$pgrp" == "$1" ]] || continue
        pid="${f#/proc/}"; pid="${pid%/stat}"
        if [[ "$state" == Z || "$state" == X ]]; then
            tasks=("/proc/$pid/task/"*)
            ((${#tasks[@]} > 1)) || continue
        fi
        printf '%s\n' "$pid"
    done
}

group_alive() { [[ -n "$(group_pids "$1")" ]]; }

stop_group() {  # SIGTERM group $1, SIGKILL after STOP_TIMEOUT; returns once it is gone
    kill -TERM -- "-$1" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while group_alive "$1" && ((SECONDS < deadline)); do sleep 0.2; done
    if group_alive "$1"; then
        log "process group $1 still alive after ${STOP_TIMEOUT}s: SIGKILL"
        kill -KILL -- "-$1" 2>/dev/null || true
        while group_alive "$1"; do sleep 0.1; done
    fi
}

# ---------------------------------------------------------------- fetch
cmd_fetch() {
    local key stamp
    key="$(cache_key)"
    stamp="$DIST/.stamp-$key"
    [[ -f "$stamp" ]] && { log "dist cached in $DIST"; return 0; }
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    check_java

    mkdir -p "$KC_HOME_DIR"
    # Serialise concurrent fetches (e.g. two test sessions on a cold cache).
    exec 9>"$KC_HOME_DIR/.fetch.lock"
    if command -v flock >/dev/null; then flock 9; fi
    if [[ -f "$stamp" ]]; then exec 9>&-; return 0; fi

    local tmp="$KC_HOME_DIR/dist.tmp.$$"
    rm -rf "$tmp" "$DIST"
    local mvn_args=(-B -q -Dstyle.color=never -f "$POM" dependency:unpack -Dkc.unpack.dir="$tmp")
    local t0=$SECONDS
    # Offline first: a warm ~/.m2 needs no network at all.
    if mvn -o "${mvn_args[@]}" >/dev/null 2>&1; then
        log "dist unpacked from the local Maven repository (offline)"
    else
        rm -rf "$tmp"
        log "downloading Keycloak (~160 MB zip) from Maven Central ..."
        mvn "${mvn_args[@]}" >&2 || { rm -rf "$tmp"; die "mvn dependency:unpack failed"; }
    fi
    local unpacked=("$tmp"/keycloak-*/bin/kc.sh)
    [[ -f "${unpacked[0]}" ]] || { rm -rf "$tmp"; die "no keycloak-*/bin/kc.sh in $tmp"; }
    mv "${unpacked[0]%/bin/kc.sh}" "$DIST"
    rm -rf "$tmp"
    log "unpacked to $DIST ($((SECONDS - t0)) s); preparing it (one start-dev, ~15-30 s) ..."
    prepare
    touch "$stamp"
    exec 9>&-
    log "dist ready in $DIST ($((SECONDS - t0)) s)"
}

# One start-dev on a scratch home: it re-augments the dist for the dev profile
# and leaves a database with the schema and the master realm, kept as the seed.
prepare() {
    local home="$KC_HOME_DIR/prepare.tmp.$$" plog="$KC_HOME_DIR/prepare.log"
    rm -rf "$home"
    mkdir -p "$home/data"
    link_dist "$home"
    : >"$plog"
    # The seed's master realm gets a (temporary) admin, admin/admin, for the admin console.
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
        launch "$home" "$plog" start-dev --http-host=127.0.0.1 --http-port=0
    local pg=$LAUNCHED_PID deadline=$((SECONDS + START_TIMEOUT * 2))
    until grep -F 'Listening on:' "$plog" >/dev/null; do
        if ! group_alive "$pg" || ((SECONDS >= deadline)); then
            kill -KILL -- "-$pg" 2>/dev/null || true
            tail -n 40 "$plog" >&2 || true
            rm -rf "$home" "$DIST"
            die "preparing the dist failed (log: $plog)"
        fi
        sleep 0.25
    done
    stop_group "$pg"   # a clean shutdown closes the H2 file
    mkdir -p "${SEED%/*}"
    cp "$home/data/h2/keycloakdb.mv.db" "$SEED"
    rm -rf "$home"
}

link_dist() {  # make $1 a Keycloak home: the dist's files, its own data/
    local x
    for x in bin conf lib providers themes; do
        ln -sfn "$DIST/$x" "$1/$x"
    done
}

# ---------------------------------------------------------------- helpers
PORT=8080 DIR="" KEEP=0
parse_opts() {
    while (($#)); do
        case "$1" in
            --port) PORT="${2:?--port needs a value}"; shift 2 ;;
            --port=*) PORT="${1#*=}"; shift ;;
            --data) DIR="${2:?--data needs a value}"; shift 2 ;;
            --data=*) DIR="${1#*=}"; shift ;;
            --keep) KEEP=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option: $1" ;;
        esac
    done
    [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad --port: $PORT"
}

# Run dir for stop/status: --data, else the one `start` recorded for the port,
# else the default for the port.
resolve_dir() {
    if [[ -n "$DIR" ]]; then :
    elif [[ -f "$PORTS_DIR/$PORT" ]]; then DIR="$(<"$PORTS_DIR/$PORT")"
    else DIR="$KC_HOME_DIR/run-$PORT"
    fi
    if [[ -d "$DIR" ]]; then DIR="$(cd -- "$DIR" && pwd -P)"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_ok() {  # GET $2 from 127.0.0.1:$1 answers 200 (bash only: no curl needed)
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$2" "$1" >&3
        IFS= read -r -t 5 line <&3 && [[ "$line" == "HTTP/1.1 200"* ]]
    ) 2>/dev/null
}

# process group of the server running from $DIR, or nothing
running_pid() {
    local pidfile="$DIR/keycloak.pid" pg pid
    [[ -f "$pidfile" ]] || return 1
    pg="$(<"$pidfile")"
    [[ "$pg" =~ ^[0-9]+$ ]] || return 1
    # guard against a recycled pid: some process of the group must run Keycloak for $DIR
    for pid in $(group_pids "$pg"); do
        if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -Fx -- "-Dkc.home.dir=$DIR" >/dev/null; then
            printf '%s\n' "$pg"
            return 0
        fi
    done
    return 1
}

dir_port() { cat "$DIR/keycloak.port" 2>/dev/null; }

issuer() { printf 'http://127.0.0.1:%s/realms/%s\n' "$1" "$REALM"; }

# ---------------------------------------------------------------- start
cmd_start() {
    parse_opts "$@"
    [[ -n "$DIR" ]] || DIR="$KC_HOME_DIR/run-$PORT"
    mkdir -p "$DIR"
    DIR="$(cd -- "$DIR" && pwd -P)"

    local pg
    if pg="$(running_pid)"; then
        if [[ "$(dir_port)" == "$PORT" ]]; then
            log "already running (process group $pg, dir $DIR)"
            issuer "$PORT"
            return 0
        fi
        die "a Keycloak (process group $pg) already runs from $DIR on another port; stop it first"
    fi
    port_open "$PORT" && die "port $PORT is in use by another process"
    check_java
    cmd_fetch

    link_dist "$DIR"
    if ((KEEP == 0)); then
        rm -rf -- "$DIR/data"
    fi
    if [[ ! -f "$DIR/data/h2/keycloakdb.mv.db" ]]; then
        mkdir -p "$DIR/data/h2"
        cp "$SEED" "$DIR/data/h2/keycloakdb.mv.db"
    else
        log "keeping existing data in $DIR/data (an existing realm is not re-imported)"
    fi
    mkdir -p "$DIR/data/import"
    cp "$REALM_FILE" "$DIR/data/import/$REALM-realm.json"
    printf '%s\n' "$PORT" >"$DIR/keycloak.port"
    mkdir -p "$PORTS_DIR"
    printf '%s\n' "$DIR" >"$PORTS_DIR/$PORT"

    ((KEEP)) || : >"$DIR/keycloak.log"
    local t0=$SECONDS
    # --hostname pins the issuer, whatever host name a client uses to reach us.
    launch "$DIR" "$DIR/keycloak.log" start-dev \
        --http-host=127.0.0.1 --http-port="$PORT" --hostname="http://127.0.0.1:$PORT" \
        --import-realm
    pg=$LAUNCHED_PID
    printf '%s\n' "$pg" >"$DIR/keycloak.pid"
    log "started process group $pg, log $DIR/keycloak.log; waiting for $(issuer "$PORT") ..."

    # Ready when the realm's discovery document is served: Keycloak imports
    # the realm before it opens the port.
    local deadline=$((SECONDS + START_TIMEOUT))
    until http_ok "$PORT" "/realms/$REALM/.well-known/openid-configuration"; do
        if ! group_alive "$pg"; then
            tail -n 40 "$DIR/keycloak.log" >&2 || true
            rm -f "$DIR/keycloak.pid"
            die "Keycloak exited during startup (log: $DIR/keycloak.log)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 40 "$DIR/keycloak.log" >&2 || true
            kill -KILL -- "-$pg" 2>/dev/null || true   # leave no half-started JVM behind
            rm -f "$DIR/keycloak.pid"
            die "Keycloak not ready after ${START_TIMEOUT}s, killed it (log: $DIR/keycloak.log)"
        fi
        sleep 0.2
    done
    log "ready in $((SECONDS - t0)) s (process group $pg, dir $DIR)"
    issuer "$PORT"
}

# ---------------------------------------------------------------- stop
cmd_stop() {
    parse_opts "$@"
    resolve_dir
    local pg
    if ! pg="$(running_pid)"; then
        rm -f "$DIR/keycloak.pid"
        log "not running (dir $DIR)"
        return 0
    fi
    stop_group "$pg"
    rm -f "$DIR/keycloak.pid"
    log "stopped process group $pg (dir $DIR)"
}

# ---------------------------------------------------------------- status
cmd_status() {
    parse_opts "$@"
    resolve_dir
    local pg port
    if pg="$(running_pid)"; then
        port="$(dir_port)"
        port="${port:-$PORT}"
        if http_ok "$port" "/realms/$REALM/.well-known/openid-configuration"; then
            echo "running: process group $pg, issuer $(issuer "$port"), dir $DIR"
        else
            echo "starting: process group $pg, port $port not serving yet, dir $DIR"
        fi
        return 0
    fi
    echo "not running (dir $DIR)"
    return 3
}

cmd_log() {
    parse_opts "$@"
    resolve_dir
    tail -n 100 "$DIR/keycloak.log"
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
