#!/bin/sh
# flask_modular_login: one entry point for developers and deployments.
#   sh server.sh debug   login service on http://localhost:8000 with the test provider
#                        (add --debugger for Werkzeug's interactive debugger, loopback only),
#                        and the channel for remote client apps on ws://127.0.0.1:8001
#   sh server.sh ws      the channel alone, in the foreground (ws://$LOGIN_CHANNEL_HOST:
#                        $LOGIN_CHANNEL_PORT, default 127.0.0.1:8001, and $LOGIN_RUN_DIR/channel.sock)
#   sh server.sh test    install the test dependencies and run the whole suite
#   sh server.sh serve   uwsgi in the foreground (uwsgi.ini, socket $LOGIN_RUN_DIR/uwsgi.sock)
#   sh server.sh start   uwsgi and the channel in the background (pids in $LOGIN_RUN_DIR/*.pid)
# LOGIN_RUN_DIR (default run) holds keys, database, socket, pid and log.
#   sh server.sh stop    stop what 'start' started
#   sh server.sh bench   run the benchmarks
set -eu
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
export LOGIN_RUN_DIR="${LOGIN_RUN_DIR:-run}"
RUN="$LOGIN_RUN_DIR"
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

# The programs the suite drives for real: node and npm (an OpenID Connect
# provider), nginx, chromium, PostgreSQL and memcached. Installed with apt where we run as root; otherwise
# named, with the command to install them (their tests fail when CI is set).
ensure_test_system() {
    missing=""
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ] || missing="$missing memcached"
    command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
        || missing="$missing postgresql"
    [ -z "$missing" ] && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing system packages:$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "missing system packages:$missing; install them with: sudo apt-get install$missing" >&2
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

init_run() {
    mkdir -p "$RUN" && chmod 700 "$RUN"
    "$PY" -m flask_modular_login init
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
        ensure_test_system
        ensure_node_modules
        ensure_venv test
        exec "$PY" -m pytest "$@"
        ;;
    serve)
        ensure_deploy
        init_run
        exec "$VENV/bin/uwsgi" --ini uwsgi.ini "$@"
        ;;
    start)
        ensure_deploy
        init_run
        if running uwsgi; then echo "already running (pid $(cat "$RUN/uwsgi.pid"))"; exit 0; fi
        "$VENV/bin/uwsgi" --ini uwsgi.ini --daemonize "$RUN/uwsgi.log" --pidfile "$RUN/uwsgi.pid" "$@"
        wait_for "$RUN/uwsgi.sock" "$RUN/uwsgi.pid" || { echo "uwsgi did not start; see $RUN/uwsgi.log" >&2; exit 1; }
        if ! running channel; then
            nohup "$PY" -m flask_modular_login channel --host "$CHANNEL_HOST" --port "$CHANNEL_PORT" \
                >> "$RUN/channel.log" 2>&1 &
            echo $! > "$RUN/channel.pid"
            wait_for "$RUN/channel.sock" "$RUN/channel.pid" || { echo "the channel did not start; see $RUN/channel.log" >&2; exit 1; }
        fi
        echo "started uwsgi (pid $(cat "$RUN/uwsgi.pid")) and the channel (pid $(cat "$RUN/channel.pid")); logs in $RUN/"
        ;;
    stop)
        stop_process uwsgi INT
        stop_process channel TERM
        ;;
    bench)
        ensure_venv bench
        exec "$PY" benchmarks/run.py "$@"
        ;;
    *)
        echo "usage: sh server.sh {debug|ws|test|serve|start|stop|bench} [args]" >&2
        exit 2
        ;;
esac
