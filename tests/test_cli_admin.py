"""The grouped commands: db, groups, invites, sessions, users, keys; --json; errors; flask login."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from flask_modular_login import keystore
from flask_modular_login.cli import main
from flask_modular_login.config import load_settings
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.service import Services
from flask_modular_login.store import open_store


@pytest.fixture
def runner(run_dir, monkeypatch):
    monkeypatch.setenv("LOGIN_RUN_DIR", str(run_dir))
    for name in ("LOGIN_DATABASE_URL", "LOGIN_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    cli = CliRunner()
    assert cli.invoke(main, ["init"]).exit_code == 0
    return cli


@pytest.fixture
def services(runner, run_dir):
    settings = load_settings(run_dir=run_dir)
    store = open_store(settings.database_url)
    found = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings)
    yield found
    store.dispose()


def new_user(services, subject: str) -> str:
    return services.store.accounts.login("test", subject, subject.title(), None,
                                         int(time.time())).id


def ok(runner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def fails(runner, *args: str, message: str) -> None:
    result = runner.invoke(main, list(args))
    assert result.exit_code != 0, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit), "a message, not a traceback"


# -- db --------------------------------------------------------------------------------------


def test_db_current_and_upgrade(runner):
    current = json.loads(ok(runner, "--json", "db", "current"))
    assert current["current"] == current["head"] and current["up_to_date"] is True
    assert "database at revision" in ok(runner, "db", "upgrade")
    assert "up_to_date" in ok(runner, "db", "current")


def test_db_current_of_a_fresh_database_is_none(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LOGIN_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    current = json.loads(ok(runner, "--json", "db", "current"))
    assert current["current"] is None and current["up_to_date"] is False
    ok(runner, "db", "upgrade")
    assert json.loads(ok(runner, "--json", "db", "current"))["up_to_date"] is True


# -- groups ----------------------------------------------------------------------------------


def test_groups_ensure_claims_an_unowned_root_once(runner, services):
    assert "ready" in ok(runner, "groups", "ensure", "chat/room", "--owner", "test:alice")
    assert services.store.access.owners(GroupPath.parse("chat")) == [("test", "alice")]
    fails(runner, "groups", "ensure", "chat", "--owner", "test:bob", message="another owner")
    ok(runner, "groups", "ensure", "chat/other")
    fails(runner, "groups", "ensure", "chat", "--owner", "nocolon", message="provider:subject")


def test_groups_ensure_announces_the_owner_to_client_caches(runner, services):
    alice = new_user(services, "alice")
    before = services.store.events.cursor()
    ok(runner, "groups", "ensure", "chat", "--owner", "test:alice")
    [event] = services.store.events.after(before)
    assert event.user_id == alice and event.kind == "owner"


def test_groups_tree(runner, services):
    alice = new_user(services, "alice")
    ok(runner, "groups", "ensure", "chat/a/b", "--owner", "test:alice")
    ok(runner, "groups", "ensure", "other")
    ok(runner, "groups", "add-member", "chat/a", alice)
    lines = ok(runner, "groups", "tree", "chat").splitlines()
    assert lines[0].startswith("chat  (") and "owner test:alice" in lines[0]
    assert lines[1].startswith("  a  (1 member(s)")
    assert lines[2].startswith("    b  (0 member(s)")
    tree = json.loads(ok(runner, "--json", "groups", "tree"))
    assert [g["path"] for g in tree] == ["chat", "chat/a", "chat/a/b", "other"]
    fails(runner, "groups", "tree", "nope", message="no group 'nope'")


def test_groups_add_and_remove_member_append_events(runner, services):
    alice = new_user(services, "alice")
    before = services.store.events.cursor()
    ok(runner, "groups", "add-member", "chat/x", alice, "--spots", "3", "--depth", "unlimited",
       "--expires", "30d", "--removal", "invited")
    held = services.store.access.membership(alice, GroupPath.parse("chat/x"))
    assert held.grant.spots == 3 and held.grant.depth is None
    assert held.grant.expires == pytest.approx(time.time() + 30 * 86400, abs=60)
    ok(runner, "groups", "remove-member", "chat/x", alice)
    assert services.store.access.membership(alice, GroupPath.parse("chat/x")) is None
    kinds = [e.kind for e in services.store.events.after(before)]
    assert kinds == ["added", "removed"]
    fails(runner, "groups", "remove-member", "chat/x", alice, message="not a member")


def test_groups_add_member_bad_input(runner, services):
    alice = new_user(services, "alice")
    fails(runner, "groups", "add-member", "chat", "nobody", message="no user nobody")
    fails(runner, "groups", "add-member", "chat", alice, "--spots", "-1",
          message="integer >= 0")
    fails(runner, "groups", "add-member", "chat", alice, "--expires", "soon",
          message="neither a duration")
    fails(runner, "groups", "add-member", "a/b\x01", alice, message="Invalid value")
    ok(runner, "groups", "add-member", "chat", alice, "--expires", "2099-01-01")


# -- invites ---------------------------------------------------------------------------------


def test_invites_create_list_revoke(runner, services):
    alice = new_user(services, "alice")
    ok(runner, "groups", "ensure", "chat", "--owner", "test:alice")
    created = json.loads(ok(runner, "--json", "invites", "create", "chat/room", "--as", alice,
                            "--accepts", "5", "--accept-for", "2d", "--access-for", "1w",
                            "--base-url", "https://login.example/"))
    assert created["link"].startswith("https://login.example/login/access/accept/")
    invite = services.store.access.invite(created["link"].rsplit("/", 1)[1])
    assert invite.id == created["id"] and invite.terms.accepts == 5
    assert invite.terms.access_for == 7 * 86400
    listed = ok(runner, "invites", "list", "--group", "chat").splitlines()
    assert listed[0].split()[:3] == ["ID", "GROUP", "INVITER"]
    assert listed[1].split()[:3] == [invite.id, "chat/room", alice]
    assert json.loads(ok(runner, "--json", "invites", "list"))[0]["id"] == invite.id
    ok(runner, "invites", "revoke", invite.id)
    assert services.store.access.invite_by_id(invite.id).state.revoked
    assert ok(runner, "invites", "list").strip() == "no invites"
    assert len(json.loads(ok(runner, "--json", "invites", "list", "--all"))) == 1
    fails(runner, "invites", "revoke", invite.id, message="already revoked")
    fails(runner, "invites", "revoke", "nope", message="no invite nope")


def test_invites_create_draws_a_qr_code(runner, services):
    alice = new_user(services, "alice")
    ok(runner, "groups", "ensure", "chat", "--owner", "test:alice")
    output = ok(runner, "invites", "create", "chat", "--as", alice, "--qr")
    assert "http://localhost:8000/login/access/accept/" in output
    art = [line for line in output.splitlines() if "█" in line]
    assert len(art) >= 10 and len({len(line) for line in art}) == 1, "a square of text"


def test_invites_create_is_bounded_by_the_inviters_rights(runner, services):
    alice, bob = new_user(services, "alice"), new_user(services, "bob")
    ok(runner, "groups", "add-member", "chat", bob)
    fails(runner, "invites", "create", "chat", "--as", bob, message="")
    ok(runner, "groups", "add-member", "chat", bob, "--spots", "2", "--depth", "1")
    fails(runner, "invites", "create", "chat", "--as", bob, "--spots", "5", message="spots")
    fails(runner, "invites", "create", "other", "--as", alice, message="no access")
    fails(runner, "invites", "create", "chat", "--as", "ghost", message="no user ghost")
    fails(runner, "invites", "create", "chat", "--as", bob, "--accept-for", "x",
          message="not a duration")
    fails(runner, "invites", "create", "chat", "--as", bob, "--accepts", "0",
          message="integer >= 1")


# -- sessions and users ----------------------------------------------------------------------


def test_sessions_list_and_end(runner, services):
    alice, bob = new_user(services, "alice"), new_user(services, "bob")
    first = services.sessions.start(alice, "test", ip="10.0.0.1")
    services.sessions.start(bob, "test")
    table = ok(runner, "sessions", "list").splitlines()
    assert table[0].split()[:4] == ["USER", "NAME", "HANDLE", "PROVIDER"]
    assert len(table) == 3
    mine = json.loads(ok(runner, "--json", "sessions", "list", "--user", alice))
    assert [s["ip"] for s in mine] == ["10.0.0.1"]
    assert first.lease.session_id not in json.dumps(mine), "never the session id"
    before = services.store.events.cursor()
    fails(runner, "sessions", "end", mine[0]["handle"], "--user", bob, message="no live session")
    ok(runner, "sessions", "end", mine[0]["handle"], "--user", alice)
    assert [e.kind for e in services.store.events.after(before)] == ["revoked"]
    assert json.loads(ok(runner, "--json", "sessions", "list", "--user", alice)) == []
    assert ok(runner, "sessions", "list", "--user", alice).strip() == "no sessions"


def test_users_show_and_remove(runner, services):
    alice = new_user(services, "alice")
    services.sessions.start(alice, "test")
    ok(runner, "groups", "ensure", "own", "--owner", "test:alice")
    ok(runner, "groups", "add-member", "chat", alice, "--spots", "1")
    shown = json.loads(ok(runner, "--json", "users", "show", alice))
    assert shown["identities"] == ["test:alice"] and shown["owns"] == ["own"]
    assert shown["memberships"][0]["group"] == "chat"
    assert shown["memberships"][0]["spots"] == 1 and len(shown["sessions"]) == 1
    text = ok(runner, "users", "show", alice)
    assert "name" in text and "Alice" in text and "1 live" in text
    assert "ended 1 session" in ok(runner, "users", "remove", alice)
    fails(runner, "users", "show", alice, message=f"no user {alice}")
    fails(runner, "users", "remove", alice, message=f"no user {alice}")


# -- keys ------------------------------------------------------------------------------------


def test_keys_rotate_and_prune(runner, run_dir):
    assert "new signing key" in ok(runner, "keys", "rotate")
    assert len(keystore.key_files(run_dir / "keys")) == 2
    assert "removed 0" in ok(runner, "keys", "prune")


# -- flask login -----------------------------------------------------------------------------


def test_flask_login_uses_the_apps_settings(run_dir, tmp_path, monkeypatch):
    from flask_modular_login.server import create_app

    monkeypatch.setenv("LOGIN_RUN_DIR", str(run_dir))  # what the app's settings override
    elsewhere = tmp_path / "elsewhere"
    app = create_app({"LOGIN_RUN_DIR": str(elsewhere), "LOGIN_DEBUG": True, "TESTING": True})
    assert "login" in app.cli.commands
    cli = app.test_cli_runner()
    result = cli.invoke(args=["login", "groups", "ensure", "chat"])
    assert result.exit_code == 0, result.output
    result = cli.invoke(args=["login", "--json", "groups", "tree"])
    assert [g["path"] for g in json.loads(result.output)] == ["chat"]
    result = cli.invoke(args=["login", "keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert len(keystore.key_files(elsewhere / "keys")) == 2
    assert not run_dir.exists(), "the environment's run dir is not used"


def test_audit_list_shows_operator_and_user_events_newest_first(runner, services):
    alice = new_user(services, "alice")
    services.sessions.start(alice, "test")
    ok(runner, "groups", "add-member", "chat", alice)
    ok(runner, "groups", "remove-member", "chat", alice)
    rows = json.loads(ok(runner, "--json", "audit", "list", "--user", alice))
    assert [r["kind"] for r in rows] == ["member_removed", "member_added", "login"]
    assert rows[0]["by"] is None and rows[0]["detail"] == {"group": "chat"}, "the operator"
    assert json.loads(ok(runner, "--json", "audit", "list", "--since", "2999-01-01")) == []
    assert len(json.loads(ok(runner, "--json", "audit", "list", "--since", "1h"))) == 3
    assert "member_added" in ok(runner, "audit", "list")
    fails(runner, "audit", "list", "--since", "yesterday", message="--since")
