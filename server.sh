#!/bin/sh
# flask_modular_login: one entry point for developers and deployments.
#   sh server.sh debug   login service on http://localhost:8000 with the test provider
#                        (add --debugger for Werkzeug's interactive debugger, loopback only),
#                        and the channel for remote client apps on ws://127.0.0.1:8001
#   sh server.sh ws      the channel alone, in the foreground (ws://$LOGIN_CHANNEL_HOST:
#                        $LOGIN_CHANNEL_PORT, default 127.0.0.1:8001, and $LOGIN_SOCKET_DIR/channel.sock)
#   sh server.sh test    install the test dependencies and run the whole suite
#   sh server.sh serve   uwsgi in the foreground (uwsgi.ini, socket $LOGIN_SOCKET_DIR/uwsgi.sock)
#   sh server.sh start   uwsgi and the channel in the background (pids in $LOGIN_RUN_DIR/*.pid)
#   sh server.sh status  what 'start' started: pids, and the health of the service and channel
#                        (exit status 0 when all is up)
# LOGIN_RUN_DIR (default run) holds keys, database, pids and logs; LOGIN_SOCKET_DIR (default
# $LOGIN_RUN_DIR/sockets) the sockets, for the web server's group (LOGIN_SOCKET_GROUP).
# With LOGIN_METRICS set, the processes share metrics in $LOGIN_RUN_DIR/metrics.
#   sh server.sh stop    stop what 'start' started
#   sh server.sh bench   run the benchmarks (--suite load: the load one process holds)
#   sh server.sh soak    the whole deployment under mixed traffic, 50 clients for 60 s
#                        (--seconds N --clients N --check; benchmarks/soak.py)
#   sh server.sh fuzz    the long fuzz: 10,000 requests at the JSON API (docs/openapi.yaml) of a
#                        running service, 10,000 frames at the channel (LOGIN_FUZZ_EXAMPLES)
set -eu
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
# The tests and benchmarks run services of their own: they get the caller's
# LOGIN_RUN_DIR and LOGIN_SOCKET_DIR, never the defaults set below (own_environment).
caller_run_dir="${LOGIN_RUN_DIR+set}"
caller_socket_dir="${LOGIN_SOCKET_DIR+set}"
export LOGIN_RUN_DIR="${LOGIN_RUN_DIR:-run}"
RUN="$LOGIN_RUN_DIR"
export LOGIN_SOCKET_DIR="${LOGIN_SOCKET_DIR:-$RUN/sockets}"
SOCKETS="$LOGIN_SOCKET_DIR"

own_environment() {
    [ -n "$caller_run_dir" ] || unset LOGIN_RUN_DIR
    [ -n "$caller_socket_dir" ] || unset LOGIN_SOCKET_DIR
}
CHANNEL_HOST="${LOGIN_CHANNEL_HOST:-127.0.0.1}"
CHANNEL_PORT="${LOGIN_CHANNEL_PORT:-8001}"

# The extras the environment asks for: postgres when LOGIN_DATABASE_URL names
# PostgreSQL, memcached when LOGIN_MEMCACHED is set.
environment_extras() {
    case "${LOGIN_DATABASE_URL:-}" in postgresql*) printf ',postgres' ;; esac
    [ -n "${LOGIN_MEMCACHED:-}" ] && printf ',memcached'
    return 0
}

# Create the virtual environment and install the package with EXTRAS (and those
# the environment asks for), again whenever pyproject.toml changed since the last install.
ensure_venv() {
    extras="$1$(environment_extras)"
    stamp="$VENV/.installed-$(echo "$extras" | tr ',' '-')"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    if [ ! -f "$stamp" ] || ! cmp -s pyproject.toml "$stamp"; then
        "$PY" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
        cp pyproject.toml "$stamp"
    fi
}

# uwsgi and the package; a test venv (which has both) is used as it is.
ensure_deploy() {
    if [ -x "$VENV/bin/uwsgi" ] && "$PY" -c "import flask_modular_login" 2>/dev/null \
        && [ -z "$(environment_extras)" ]; then
        return
    fi
    ensure_venv deploy
}

# The Debian packages (of those named: nodejs npm nginx chromium wrk memcached
# postgresql) whose programs are missing; each package once.
missing_packages() {
    for package in "$@"; do
        case "$package" in
            nodejs) command -v node >/dev/null 2>&1 && continue ;;
            nginx) [ -x /usr/sbin/nginx ] && continue ;;
            memcached) [ -x /usr/bin/memcached ] && continue ;;
            postgresql) { command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 && continue ;;
        esac
        command -v "$package" >/dev/null 2>&1 || printf ' %s' "$package"
    done
}

# Install PACKAGES with apt where we run as root; otherwise name them, with the
# command to install them (the tests that need them fail when CI is set).
install_packages() {
    [ -z "$1" ] && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing system packages:$1"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $1 >/dev/null
    else
        echo "missing system packages:$1; install them with: sudo apt-get install$1" >&2
    fi
}

# The OpenID Connect provider's node modules, again whenever its lock file changed.
ensure_node_modules() {
    dir=tests/support/oidc
    stamp="$dir/node_modules/.installed-lock"
    command -v npm >/dev/null 2>&1 || return 0
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
        (cd "$dir" && npm ci --no-audit --no-fund --silent)
        cp "$dir/package-lock.json" "$stamp"
    fi
}

# Whether the process NAME that 'start' started (pid in $RUN/NAME.pid) is alive.
running() {
    [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null
}

# Wait up to 10 s until the socket $1 and the pid file $2 exist.
wait_for() {
    tries=0
    until [ -S "$1" ] && [ -s "$2" ]; do
        tries=$((tries + 1))
        [ $tries -gt 100 ] && return 1
        sleep 0.1
    done
}

# Stop the process NAME that 'start' started, with signal $2 (then KILL after 10 s).
stop_process() {
    if [ ! -f "$RUN/$1.pid" ]; then echo "$1: not running (no $RUN/$1.pid)"; return; fi
    pid="$(cat "$RUN/$1.pid")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -"$2" "$pid"
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$RUN/$1.pid"
    echo "$1: stopped"
}

# run/ (made private; an existing one keeps the group access its admin gave it), keys,
# database and the socket directory.
init_run() {
    # A new run/, or one open to others (a fresh clone's is 0755), becomes 0700; one
    # closed to others is left as it is (a group the admin let in keeps its access).
    if [ ! -d "$RUN" ] || [ -n "$(find "$RUN" -maxdepth 0 -perm /007)" ]; then
        mkdir -p "$RUN" && chmod 700 "$RUN"
    fi
    "$PY" -m flask_modular_login init
}

# The directory of the processes' shared metrics (LOGIN_METRICS); emptied when $1 is
# "fresh" (nothing runs that writes there).
init_metrics() {
    [ -n "${LOGIN_METRICS:-}" ] || return 0
    export PROMETHEUS_MULTIPROC_DIR="$RUN/metrics"
    [ "$1" = fresh ] && rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p -m 700 "$PROMETHEUS_MULTIPROC_DIR"
}

# One line on the process NAME that 'start' started; fails if it does not run.
process_status() {
    if running "$1"; then
        echo "$1: running (pid $(cat "$RUN/$1.pid"))"
    elif [ -f "$RUN/$1.pid" ]; then
        echo "$1: NOT running (stale pid $(cat "$RUN/$1.pid"))"; return 1
    else
        echo "$1: NOT running (no $RUN/$1.pid)"; return 1
    fi
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    debug)
        ensure_venv dev
        export LOGIN_DEBUG=1
        init_run
        # The channel runs beside the login service and stops with it.
        "$PY" -m flask_modular_login channel --host "$CHANNEL_HOST" --port "$CHANNEL_PORT" &
        channel_pid=$!
        "$PY" -m flask_modular_login serve --debug --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@" &
        serve_pid=$!
        trap 'kill "$channel_pid" 2>/dev/null || true' EXIT
        trap 'kill "$serve_pid" 2>/dev/null || true' INT TERM
        status=0
        wait "$serve_pid" || status=$?
        if kill -0 "$serve_pid" 2>/dev/null; then  # a signal interrupted the wait
            wait "$serve_pid" || status=$?
        fi
        exit "$status"
        ;;
    ws)
        ensure_venv dev
        init_run
        exec "$PY" -m flask_modular_login channel --host "$CHANNEL_HOST" --port "$CHANNEL_PORT" "$@"
        ;;
    test)
        # The programs the suite drives for real: an OpenID Connect provider (node),
        # nginx, chromium, memcached and PostgreSQL; wrk for the deployment benchmark.
        install_packages "$(missing_packages nodejs npm nginx chromium wrk memcached postgresql)"
        ensure_node_modules
        ensure_venv test
        own_environment
        exec "$PY" -m pytest "$@"
        ;;
    serve)
        ensure_deploy
        init_run
        init_metrics fresh
        umask 077  # logs private; the sockets get their mode from uwsgi.ini
        exec "$VENV/bin/uwsgi" --ini uwsgi.ini "$@"
        ;;
    start)
        ensure_deploy
        init_run
        if running uwsgi; then echo "already running (pid $(cat "$RUN/uwsgi.pid"))"; exit 0; fi
        if running channel; then init_metrics keep; else init_metrics fresh; fi
        umask 077  # logs and pid files private; the sockets get their own modes
        "$VENV/bin/uwsgi" --ini uwsgi.ini --daemonize "$RUN/uwsgi.log" --pidfile "$RUN/uwsgi.pid" "$@"
        wait_for "$SOCKETS/uwsgi.sock" "$RUN/uwsgi.pid" || { echo "uwsgi did not start; see $RUN/uwsgi.log" >&2; exit 1; }
        if ! running channel; then
            nohup "$PY" -m flask_modular_login channel --host "$CHANNEL_HOST" --port "$CHANNEL_PORT" \
                >> "$RUN/channel.log" 2>&1 &
            echo $! > "$RUN/channel.pid"
            wait_for "$SOCKETS/channel.sock" "$RUN/channel.pid" || { echo "the channel did not start; see $RUN/channel.log" >&2; exit 1; }
        fi
        echo "started uwsgi (pid $(cat "$RUN/uwsgi.pid")) and the channel (pid $(cat "$RUN/channel.pid")); logs in $RUN/"
        ;;
    status)
        status=0
        process_status uwsgi || status=1
        process_status channel || status=1
        "$PY" -m flask_modular_login status || status=1
        exit "$status"
        ;;
    stop)
        stop_process uwsgi INT
        stop_process channel TERM
        ;;
    bench)
        install_packages "$(missing_packages nginx wrk memcached postgresql)"
        ensure_venv bench,test
        own_environment
        exec "$PY" benchmarks/run.py "$@"
        ;;
    soak)
        install_packages "$(missing_packages nginx)"
        ensure_venv bench,test
        own_environment
        exec "$PY" benchmarks/soak.py "$@"
        ;;
    fuzz)
        ensure_venv test
        own_environment
        export LOGIN_FUZZ_EXAMPLES="${LOGIN_FUZZ_EXAMPLES:-10000}"
        exec "$PY" -m pytest tests/e2e/test_api_fuzz.py tests/channel/test_channel_fuzz.py "$@"
        ;;
    *)
        echo "usage: sh server.sh {debug|ws|test|serve|start|status|stop|bench|soak|fuzz} [args]" >&2
        exit 2
        ;;
esac
