#!/bin/sh
# flask_modular_login: one entry point for developers and deployments.
#   sh server.sh debug   login service on http://localhost:8000 with the test provider
#   sh server.sh test    install the test dependencies and run the whole suite
#   sh server.sh serve   uwsgi in the foreground (uwsgi.ini, socket run/uwsgi.sock)
#   sh server.sh start   uwsgi in the background (pid in run/uwsgi.pid)
#   sh server.sh stop    stop the uwsgi started by 'start'
#   sh server.sh bench   run the benchmarks
set -eu
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"

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

init_run() {
    mkdir -p run && chmod 700 run
    "$PY" -m flask_modular_login init
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    debug)
        ensure_venv dev
        export LOGIN_DEBUG=1
        init_run
        exec "$PY" -m flask_modular_login serve --debug --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
        ;;
    test)
        ensure_venv test
        exec "$PY" -m pytest "$@"
        ;;
    serve)
        ensure_venv deploy
        init_run
        exec "$VENV/bin/uwsgi" --ini uwsgi.ini "$@"
        ;;
    start)
        ensure_venv deploy
        init_run
        if [ -f run/uwsgi.pid ] && kill -0 "$(cat run/uwsgi.pid)" 2>/dev/null; then
            echo "already running (pid $(cat run/uwsgi.pid))"; exit 0
        fi
        "$VENV/bin/uwsgi" --ini uwsgi.ini --daemonize run/uwsgi.log --pidfile run/uwsgi.pid "$@"
        echo "started; log in run/uwsgi.log"
        ;;
    stop)
        if [ ! -f run/uwsgi.pid ]; then echo "not running (no run/uwsgi.pid)"; exit 0; fi
        pid="$(cat run/uwsgi.pid)"
        if kill -0 "$pid" 2>/dev/null; then
            kill -INT "$pid"
            while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
        fi
        rm -f run/uwsgi.pid
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
