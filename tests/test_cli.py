"""The command line: init, key rotation, removing a user ends their sessions, serve's debugger."""

from __future__ import annotations

import json
import subprocess

import flask
import pytest
from click.testing import CliRunner

from flask_modular_login import keystore
from flask_modular_login.cli import main
from tests.support.servers import ROOT


@pytest.fixture
def runner(run_dir, monkeypatch):
    monkeypatch.setenv("LOGIN_RUN_DIR", str(run_dir))
    for name in ("LOGIN_DATABASE_URL", "LOGIN_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_init_creates_private_run_dir_keys_and_schema(runner, run_dir):
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert run_dir.stat().st_mode & 0o777 == 0o700
    assert (run_dir / "users.db").stat().st_mode & 0o777 == 0o600
    assert len(keystore.key_files(run_dir / "keys")) == 1
    assert runner.invoke(main, ["init"]).exit_code == 0, "init is idempotent"
    assert len(keystore.key_files(run_dir / "keys")) == 1


def test_rotate_and_prune_keys(runner, run_dir):
    runner.invoke(main, ["init"])
    assert runner.invoke(main, ["rotate-keys"]).exit_code == 0
    assert len(keystore.key_files(run_dir / "keys")) == 2
    result = runner.invoke(main, ["prune-keys"])
    assert result.exit_code == 0 and "removed 0" in result.output, "recent keys stay"


def test_remove_user_ends_all_their_sessions(runner, login, service, interface, client):
    token = login("alice")
    client.set_cookie("login", token)
    user_id = interface.verifier.lease(token).user_id
    result = runner.invoke(main, ["remove-user", user_id])
    assert result.exit_code == 0 and "ended 1 session" in result.output
    assert interface.store.accounts.get(user_id) is None
    interface.sync_revocations()
    assert client.get("/hidden").status_code == 302


def test_remove_unknown_user_is_a_clear_error(runner):
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["remove-user", "nobody"])
    assert result.exit_code != 0 and "no user nobody" in result.output


def test_run_dir_content_is_never_committed():
    paths = ["run/keys/ed25519-1.pem", "run/users.db", "run/flask_secret", "run/uwsgi.sock"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True,
                             text=True)
    assert ignored.stdout.split() == paths


@pytest.fixture
def app_runs(monkeypatch) -> list[dict]:
    """What ``serve`` asks the development server for (it is never started)."""
    calls: list[dict] = []
    monkeypatch.setattr(flask.Flask, "run", lambda app, **options: calls.append(options))
    return calls


def test_serve_debug_is_the_test_provider_without_the_interactive_debugger(runner, app_runs):
    result = runner.invoke(main, ["serve", "--debug", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    [options] = app_runs
    assert options["debug"] is False and options["use_debugger"] is False
    assert options["host"] == "0.0.0.0"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_the_interactive_debugger_needs_an_explicit_flag_on_a_loopback_host(runner, app_runs,
                                                                             host):
    result = runner.invoke(main, ["serve", "--debug", "--debugger", "--host", host])
    assert result.exit_code == 0, result.output
    [options] = app_runs
    assert options["use_debugger"] is True and options["host"] == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_the_debugger_is_refused_on_a_reachable_host(runner, app_runs, host):
    result = runner.invoke(main, ["serve", "--debugger", "--host", host])
    assert result.exit_code != 0
    assert "--debugger" in result.output and "loopback" in result.output
    assert app_runs == [], "the server never starts"


def test_clients_add_prints_a_credential_once_and_keeps_only_its_key(runner, run_dir):
    from flask_modular_login.core.protocol import auth
    from flask_modular_login.store import open_store

    added = runner.invoke(main, ["clients", "add", "chat-app"])
    assert added.exit_code == 0, added.output
    credential = added.output.strip()
    name, key = auth.parse_credential(credential)
    assert name == "chat-app"
    store = open_store(f"sqlite:///{run_dir / 'users.db'}")
    assert store.clients.lookup("chat-app").key == key
    secret = credential.rpartition(".")[2]
    assert secret not in (run_dir / "users.db").read_bytes().decode("latin-1")
    store.dispose()
    again = runner.invoke(main, ["clients", "add", "chat-app"])
    assert again.exit_code != 0 and "exists" in again.output
    assert runner.invoke(main, ["clients", "add", "bad name!"]).exit_code != 0


def test_clients_list_and_revoke(runner, run_dir):
    runner.invoke(main, ["clients", "add", "a"])
    runner.invoke(main, ["clients", "add", "b"])
    assert runner.invoke(main, ["clients", "revoke", "a"]).exit_code == 0
    listing = runner.invoke(main, ["clients", "list"]).output.splitlines()
    assert [line.split()[:2] for line in listing[1:]] == [["a", "revoked"], ["b", "active"]]
    assert listing[0].split() == ["NAME", "STATE", "ADDED"]
    listed = json.loads(runner.invoke(main, ["--json", "clients", "list"]).output)
    assert [(c["name"], c["state"]) for c in listed] == [("a", "revoked"), ("b", "active")]
    assert runner.invoke(main, ["clients", "revoke", "a"]).exit_code != 0, "already revoked"
    readded = runner.invoke(main, ["clients", "add", "a"])
    assert readded.exit_code == 0, "a revoked name may get a new credential"
