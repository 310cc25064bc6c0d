"""server.sh's own decisions, run in sh: which extras the environment asks for, which
system packages are missing, and that its defaults stay out of the tests' environment."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.support.servers import ROOT

SCRIPT = (ROOT / "server.sh").read_text()


def function(name: str) -> str:
    found = re.search(rf"^{name}\(\) {{\n.*?^}}\n", SCRIPT, re.MULTILINE | re.DOTALL)
    assert found, f"server.sh has no function {name}"
    return found.group(0)


def sh(code: str, env: dict[str, str]) -> str:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("LOGIN_")}
    done = subprocess.run(["sh", "-c", code], env={**clean, **env}, capture_output=True,
                          text=True, check=True)
    return done.stdout


@pytest.mark.parametrize(("env", "extras"), [
    ({}, ""),
    ({"LOGIN_DATABASE_URL": "sqlite:///run/users.db"}, ""),
    ({"LOGIN_DATABASE_URL": "postgresql+psycopg://login@db/login"}, ",postgres"),
    ({"LOGIN_MEMCACHED": "127.0.0.1:11211"}, ",memcached"),
    ({"LOGIN_DATABASE_URL": "postgresql://db/login", "LOGIN_MEMCACHED": "/run/mc.sock"},
     ",postgres,memcached"),
])
def test_the_extras_follow_the_database_and_memcached_settings(env, extras):
    assert sh(function("environment_extras") + "environment_extras", env) == extras


def test_a_package_whose_program_is_missing_is_named():
    code = function("missing_packages") + "missing_packages sh no-such-program-here"
    assert sh(code, {}) == " no-such-program-here"


def test_the_tests_get_the_callers_run_dir_not_the_scripts_default():
    prologue = SCRIPT[SCRIPT.index("caller_run_dir="):SCRIPT.index("CHANNEL_HOST=")]
    code = prologue + 'own_environment; echo "${LOGIN_RUN_DIR-unset} ${LOGIN_SOCKET_DIR-unset}"'
    assert sh(code, {}).split() == ["unset", "unset"]
    assert sh(code, {"LOGIN_RUN_DIR": "/srv/run"}).split() == ["/srv/run", "unset"]


@pytest.mark.parametrize(("mode", "after"), [(None, 0o700), (0o755, 0o700), (0o750, 0o750),
                                             (0o710, 0o710)],
                         ids=["new", "a fresh clone's", "a group let in", "group pass-through"])
def test_the_run_dir_is_closed_to_others_and_a_group_given_access_keeps_it(tmp_path, mode,
                                                                          after):
    run = tmp_path / "run"
    if mode is not None:
        run.mkdir()
        run.chmod(mode)
    sh(function("init_run") + "init_run", {"RUN": str(run), "PY": "true"})
    assert run.stat().st_mode & 0o777 == after
