#!/bin/sh
# flask_modular_login: one entry point for developers and deployments.
#   sh server.sh debug   login service on http://localhost:8000 with the test provider
#                        (add --debugger for Werkzeug's interactive debugger, loopback only)
#   sh server.sh test    install the test dependencies and run the whole suite
#   sh server.sh serve   uwsgi in the foreground (uwsgi.ini, socket $LOGIN_RUN_DIR/uwsgi.sock)
#   sh server.sh start   uwsgi in the background (pid in $LOGIN_RUN_DIR/uwsgi.pid)
# LOGIN_RUN_DIR (default run) holds keys, database, socket, pid and log.
#   sh server.sh stop    stop the uwsgi started by 'start'
#   sh server.sh bench   run the benchmarks
set -eu
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
export LOGIN_RUN_DIR="${LOGIN_RUN_DIR:-run}"
RUN="$LOGIN_RUN_DIR"

# Create the virtual environment and install the package with EXTRAS, again
# whenever pyproject.toml changed since the last install.
ensure_venv() {
    extras="$1"
    stamp="$VENV/.installed-$(echo "$extras" | tr ',' '-')"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    if [ ! -f "$stamp" ] || ! cmp -s pyproject.toml "$stamp"; then
        "$PY" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
        cp pyproject.toml "$stamp"
    fi
}

# uwsgi and the package; a test venv (which has both) is used as it is.
ensure_deploy() {
    if [ -x "$VENV/bin/uwsgi" ] && "$PY" -c "import flask_modular_login" 2>/dev/null; then
        return
    fi
    ensure_venv deploy
}

# The programs the suite drives for real: node and npm (an OpenID Connect
# provider), nginx, chromium. Installed with apt where we run as root; otherwise
# named, with the command to install them (their tests fail when CI is set).
ensure_test_system() {
    missing=""
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
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
        exec "$PY" -m flask_modular_login serve --debug --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"
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
        if [ -f "$RUN/uwsgi.pid" ] && kill -0 "$(cat "$RUN/uwsgi.pid")" 2>/dev/null; then
            echo "already running (pid $(cat "$RUN/uwsgi.pid"))"; exit 0
        fi
        "$VENV/bin/uwsgi" --ini uwsgi.ini --daemonize "$RUN/uwsgi.log" --pidfile "$RUN/uwsgi.pid" "$@"
        tries=0
        until [ -S "$RUN/uwsgi.sock" ] && [ -s "$RUN/uwsgi.pid" ]; do
            tries=$((tries + 1))
            if [ $tries -gt 100 ]; then echo "uwsgi did not start; see $RUN/uwsgi.log" >&2; exit 1; fi
            sleep 0.1
        done
        echo "started (pid $(cat "$RUN/uwsgi.pid")); log in $RUN/uwsgi.log"
        ;;
    stop)
        if [ ! -f "$RUN/uwsgi.pid" ]; then echo "not running (no $RUN/uwsgi.pid)"; exit 0; fi
        pid="$(cat "$RUN/uwsgi.pid")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -INT "$pid"
            tries=0
            while kill -0 "$pid" 2>/dev/null && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
        rm -f "$RUN/uwsgi.pid"
        echo "stopped"
        ;;
    bench)
        ensure_venv bench
        exec "$PY" benchmarks/run.py "$@"
        ;;
    *)
        echo "usage: sh server.sh {debug|test|serve|start|stop|bench} [args]" >&2
        exit 2
        ;;
esac
