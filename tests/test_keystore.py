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


def test_a_staged_key_verifies_at_once_and_signs_only_from_its_time(tmp_path):
    keys_dir = tmp_path / "keys"
    current = keystore.load(keystore.create_key(keys_dir, now=1000).parent, now=1000)
    keystore.create_key(keys_dir, now=2000, activate_in=600)
    before = keystore.load(keys_dir, now=2599)
    after = keystore.load(keys_dir, now=2600)
    assert before.signing.kid == current.signing.kid
    assert after.signing.kid != current.signing.kid
    assert after.signing.kid in before.ring


def test_a_running_service_signs_with_a_rotated_key_without_a_restart(tmp_path):
    keys_dir = tmp_path / "keys"
    keystore.create_key(keys_dir, now=1000)
    now = [2000.0]
    cache = keystore.KeyCache(keys_dir, clock=lambda: now[0])
    first = cache.get().signing.kid
    keystore.create_key(keys_dir, now=2000)  # another file: the directory changed
    rotated = cache.get().signing.kid
    assert rotated != first
    keystore.create_key(keys_dir, now=2000, activate_in=60)
    assert cache.get().signing.kid == rotated  # staged: not yet
    now[0] = 2060
    assert cache.get().signing.kid not in (first, rotated)


def test_prune_never_removes_the_key_that_signs_while_a_newer_one_waits(tmp_path):
    keys_dir = tmp_path / "keys"
    keystore.create_key(keys_dir, now=1000)
    signing = keystore.load(keys_dir, now=5000).signing.kid
    keystore.create_key(keys_dir, now=5000, activate_in=600)
    assert keystore.prune(keys_dir, older_than=100, now=5000) == []
    assert keystore.load(keys_dir, now=5000).signing.kid == signing


def test_rotate_with_activate_in_on_the_command_line(run_dir):
    from click.testing import CliRunner

    from flask_modular_login.cli import main

    result = CliRunner().invoke(main, ["keys", "rotate", "--activate-in", "600"],
                                env={"LOGIN_RUN_DIR": str(run_dir)})
    assert result.exit_code == 0, result.output
    assert "signs in 600 s" in result.output
    refused = CliRunner().invoke(main, ["keys", "rotate", "--activate-in", "-1"],
                                 env={"LOGIN_RUN_DIR": str(run_dir)})
    assert refused.exit_code == 2


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
