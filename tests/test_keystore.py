"""Keys in run/: mode 0600, rotation without logging anyone out (SECURITY.md 21)."""

from __future__ import annotations

import os

import pytest

from flask_modular_login import keystore
from flask_modular_login.core import leases


def test_keys_are_created_private(tmp_path):
    keys_dir = tmp_path / "run" / "keys"
    keystore.load(keys_dir, create=True)
    assert keys_dir.stat().st_mode & 0o777 == 0o700
    files = keystore.key_files(keys_dir)
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    assert not list(keys_dir.glob(".*.tmp")), "no temporary file left behind"


def test_missing_keys_are_an_error_for_clients(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="flask-modular-login init"):
        keystore.load(tmp_path / "nothing")


def test_rotation_signs_with_the_new_key_and_still_verifies_the_old(tmp_path):
    keys_dir = tmp_path / "keys"
    keystore.create_key(keys_dir, now=1000)
    old = keystore.load(keys_dir)
    keystore.create_key(keys_dir, now=2000)
    new = keystore.load(keys_dir)
    assert new.signing.kid != old.signing.kid
    assert old.signing.kid in new.ring and len(new.ring) == 2


def test_prune_keeps_the_newest(tmp_path):
    keys_dir = tmp_path / "keys"
    for stamp in (1000, 2000, 3000):
        keystore.create_key(keys_dir, now=stamp)
    removed = keystore.prune(keys_dir, older_than=1500, now=4000)
    assert len(removed) == 2
    assert len(keystore.key_files(keys_dir)) == 1
    assert len(keystore.prune(keys_dir, older_than=0, now=10**9)) == 0


def test_client_picks_up_a_rotated_key(login, interface, clock, run_dir, client):
    client.set_cookie("login", login("alice"))
    assert client.get("/hidden").status_code == 200
    keystore.create_key(run_dir / "keys")
    service_keys = keystore.load(run_dir / "keys")
    genuine = interface.verifier.lease(client.get_cookie("login").value)
    token = leases.issue(genuine, service_keys.signing)
    clock.advance(10)  # key reloads are rate limited
    client.set_cookie("login", token)
    assert client.get("/hidden").status_code == 200


def test_a_directory_we_create_is_0700_with_its_parents_whatever_the_umask(tmp_path):
    previous = os.umask(0o000)
    try:
        made = keystore.ensure_private_dir(tmp_path / "srv" / "run")
    finally:
        os.umask(previous)
    assert made.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "srv").stat().st_mode & 0o777 == 0o700


def test_an_existing_directory_others_can_read_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    run.chmod(0o755)
    with pytest.raises(PermissionError, match=rf"{run}.*0755.*chmod 700") as raised:
        keystore.ensure_private_dir(run)
    assert raised.value.code == "directory_open"  # a LoginError like every other
    assert run.stat().st_mode & 0o777 == 0o755, "refused, not changed behind the admin's back"


@pytest.mark.parametrize("mode", [0o750, 0o700], ids=oct)
def test_an_existing_directory_closed_to_others_is_accepted_as_it_is(tmp_path, mode):
    run = tmp_path / "run"
    run.mkdir()
    run.chmod(mode)
    assert keystore.ensure_private_dir(run) == run
    assert run.stat().st_mode & 0o777 == mode


@pytest.mark.parametrize("mode", [0o701, 0o704, 0o757], ids=oct)
def test_any_access_for_others_is_refused(tmp_path, mode):
    run = tmp_path / "run"
    run.mkdir()
    run.chmod(mode)
    with pytest.raises(PermissionError):
        keystore.ensure_private_dir(run)


def test_the_service_refuses_a_run_dir_others_can_read(tmp_path):
    from flask_modular_login import create_app

    run = tmp_path / "run"
    run.mkdir()
    run.chmod(0o755)
    with pytest.raises(PermissionError, match="chmod 700"):
        create_app({"LOGIN_RUN_DIR": str(run), "LOGIN_DEBUG": True, "TESTING": True})
    assert not (run / "keys").exists() and not (run / "users.db").exists()
