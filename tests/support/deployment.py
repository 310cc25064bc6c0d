"""``sh server.sh`` and nginx for the deployment tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.support.servers import ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def require(path: str, what: str) -> None:
    """Skip (fail when ``CI`` is set) unless ``path`` exists."""
    if not Path(path).exists():
        message = f"{what} is not installed ({path})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def server_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "server.sh", command], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=600)


def nginx_conf(tmp_path: Path, port: int, socket: Path, logging: str = "access_log off;") -> Path:
    """A minimal nginx (one process, as the test's user) passing ``/login/`` to ``socket``."""
    conf = tmp_path / "nginx.conf"
    logging = textwrap.indent(logging, " " * 12).strip()
    conf.write_text(textwrap.dedent(f"""
        daemon off;
        master_process off;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/nginx-error.log;
        events {{ worker_connections 64; }}
        http {{
            {logging}
            client_body_temp_path {tmp_path}/body;
            proxy_temp_path {tmp_path}/proxy;
            fastcgi_temp_path {tmp_path}/fastcgi;
            uwsgi_temp_path {tmp_path}/uwsgi;
            scgi_temp_path {tmp_path}/scgi;
            server {{
                listen 127.0.0.1:{port};
                location /login/ {{
                    include /etc/nginx/uwsgi_params;
                    uwsgi_pass unix:{socket};
                }}
            }}
        }}
    """))
    return conf
