"""Real processes for end-to-end tests: the login service and the example client app."""

from __future__ import annotations

import pytest

from tests.support.servers import free_port, python, running


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    service_port, client_port = free_port(), free_port()
    env = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1"}
    service_args = python("-m", "flask_modular_login", "serve", "--debug",
                          "--port", str(service_port))
    with running(service_args, service_port, env):
        client_env = {**env, "PORT": str(client_port),
                      "LOGIN_SERVICE": f"//127.0.0.1:{service_port}"}
        with running(python("examples/client_app.py"), client_port, client_env):
            yield f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{client_port}"
