"""The socket directory (``LOGIN_SOCKET_DIR``, ``LOGIN_SOCKET_GROUP``): the web server's
group reaches the sockets, never the keys."""

from __future__ import annotations

import os
import stat

import pytest

from flask_modular_login import keystore
from flask_modular_login.config import load_settings
from flask_modular_login.sockets import UnknownGroup, ensure_socket_dir


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_by_default_the_sockets_live_in_run_sockets_and_run_stays_private(tmp_path):
    settings = load_settings(environ={}, run_dir=tmp_path / "run")
    path = ensure_socket_dir(settings)
    assert path == tmp_path / "run" / "sockets"
    assert mode(path) == 0o2750
    assert mode(tmp_path / "run") == 0o700


def test_a_group_enters_the_socket_dir_and_only_passes_through_run(tmp_path):
    gid = os.getgid()  # a group this user may give (root: any)
    settings = load_settings(environ={}, run_dir=tmp_path / "run", socket_group=str(gid))
    keystore.load(settings.keys_dir, create=True)
    path = ensure_socket_dir(settings)
    assert path.stat().st_gid == gid and mode(path) == 0o2750
    run = tmp_path / "run"
    assert run.stat().st_gid == gid and mode(run) == 0o710  # search only: no listing
    assert mode(settings.keys_dir) == 0o700
    keystore.ensure_private_dir(run)  # still private enough for the service
    ensure_socket_dir(settings)  # again: nothing changes
    assert mode(run) == 0o710 and mode(path) == 0o2750


def test_group_access_the_admin_gave_run_is_kept(tmp_path):
    run = tmp_path / "run"
    run.mkdir(mode=0o750)
    os.chmod(run, 0o750)
    settings = load_settings(environ={}, run_dir=run, socket_group=str(os.getgid()))
    ensure_socket_dir(settings)
    assert mode(run) == 0o750


def test_a_socket_dir_outside_run_leaves_run_alone(tmp_path):
    settings = load_settings(environ={}, run_dir=tmp_path / "run",
                             socket_dir=tmp_path / "sockets", socket_group=str(os.getgid()))
    keystore.ensure_private_dir(settings.run_dir)
    assert ensure_socket_dir(settings) == tmp_path / "sockets"
    assert mode(tmp_path / "run") == 0o700


def test_an_unknown_group_is_refused_naming_the_setting(tmp_path):
    settings = load_settings(environ={}, run_dir=tmp_path / "run",
                             socket_group="no-such-group-flask-login")
    with pytest.raises(UnknownGroup, match="LOGIN_SOCKET_GROUP"):
        ensure_socket_dir(settings)
