"""``LOGIN_METRICS`` under ``sh server.sh start``: uwsgi's two workers and the channel share
their metrics (``run/metrics``, emptied at each start); any worker's scrape shows them all."""

from __future__ import annotations

import sys
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from flask_modular_login.ops.metrics import HOST
from flask_modular_login.ops.status import uwsgi_get
from tests.support.deployment import NGINX, nginx_conf, require, server_sh
from tests.support.servers import free_port, running


def scrape(socket: Path) -> dict[tuple[str, tuple], float]:
    answer = uwsgi_get(socket, "/login/metrics")
    assert answer.status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.body.decode())
            for s in family.samples}


LOGINS = ("flask_modular_login_logins_total", (("outcome", "success"), ("provider", "test")))
CURSOR = ("flask_modular_login_channel_cursor", (("host", HOST),))
LAG = ("flask_modular_login_event_log_lag_events", (("host", HOST),))


def test_every_worker_shows_the_counts_of_all_processes(tmp_path):
    require(str(Path(sys.prefix) / "bin" / "uwsgi"), "uwsgi")
    require(NGINX, "nginx")
    run_dir = tmp_path / "run"
    env = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1", "VENV": sys.prefix,
           "LOGIN_CHANNEL_PORT": str(free_port()), "LOGIN_METRICS": "/metrics"}
    socket = run_dir / "sockets" / "uwsgi.sock"
    assert server_sh("start", env).returncode == 0
    try:
        port = free_port()
        with running([NGINX, "-c", str(nginx_conf(tmp_path, port, socket))], port):
            base = f"http://127.0.0.1:{port}"
            for name in ("ann", "ben", "cat"):
                browser = requests.Session()
                form = browser.get(f"{base}/login/test/")
                csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
                done = browser.post(f"{base}/login/test/",
                                    data={"username": name, "csrf_token": csrf})
                assert done.status_code == 200
        scrapes = [scrape(socket) for _ in range(6)]  # answered by either worker
        assert {s.get(LOGINS) for s in scrapes} == {3.0}
        assert all(CURSOR in s and LAG in s for s in scrapes)  # the channel's gauges
        assert (run_dir / "metrics").is_dir()
    finally:
        assert server_sh("stop", env).returncode == 0
    assert server_sh("start", env).returncode == 0  # a new start: counts from zero
    try:
        assert scrape(socket).get(LOGINS, 0.0) == 0.0
    finally:
        assert server_sh("stop", env).returncode == 0
