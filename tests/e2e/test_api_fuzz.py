"""schemathesis against the running login service: docs/openapi.yaml, fuzzed.

A real server process on 127.0.0.1 (SQLite in a tmp run dir, ``LOGIN_DEBUG``) gets
requests generated from the document, valid and invalid (positive and negative
generation), sent logged in as ``fuzzer`` with the CSRF header and
``Accept: application/json``. A quarter of the requests name real objects instead
of generated ones: groups the fuzzer owns or belongs to, members, invites and their
codes (seeded, and those the run creates), sessions, a linked identity. Every answer
must be documented (status, content type, body schema, headers) and none a 5xx;
afterwards the server logged no traceback and the database passes SQLite's integrity
and foreign key checks and the invitation invariants (:func:`invariant_breaks`).

``LOGIN_FUZZ_EXAMPLES`` sets the number of requests (1,500 by default, well under a
minute); ``sh server.sh fuzz`` runs 10,000 (with the channel's frame fuzz).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from flask_modular_login import keystore
from flask_modular_login.config import load_settings
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import Grant, Removal
from flask_modular_login.service import Services
from flask_modular_login.service.admin import AdminService
from flask_modular_login.store import open_store
from tests.support.servers import ROOT, free_port, python, running

EXAMPLES = int(os.environ.get("LOGIN_FUZZ_EXAMPLES", "1500"))
SPEC = ROOT / "docs" / "openapi.yaml"
JSON = {"Accept": "application/json"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
FUZZER = "fuzzer"
MUST_GET_THROUGH = {
    "GET /", "GET /providers", "GET /me", "GET /.well-known/jwks.json", "GET /sessions",
    "GET /access/groups", "GET /access/invite", "GET /access/remove", "GET /access/renege",
    "GET /health", "GET /health/live", "POST /logout", "POST /sessions/end-others",
    "POST /access/invite"}
"""Operations that answer 2xx at least once in any run: the fuzz is not refused wholesale."""


@dataclass
class Service:
    url: str
    run_dir: Path
    log: Path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The login service as its own process; its log in a file (a pipe would fill up)."""
    run_dir = tmp_path_factory.mktemp("fuzz") / "run"
    port = free_port()
    log = run_dir.parent / "service.log"
    env = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1"}
    args = python("-m", "flask_modular_login", "serve", "--debug", "--port", str(port))
    with running(args, port, env, log=log):
        yield Service(f"http://127.0.0.1:{port}", run_dir, log)


def log_in(base: str, username: str) -> tuple[requests.Session, str]:
    """A session logged in through the test provider, sending JSON and the CSRF header; and
    the user's id."""
    browser = requests.Session()
    form = browser.get(f"{base}/login/test/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = browser.post(f"{base}/login/test/", data={"username": username, "csrf_token": csrf},
                        allow_redirects=False)
    assert done.status_code == 302, done.text
    listing = browser.get(f"{base}/login/sessions", headers=JSON).json()
    browser.headers.update({**JSON, "X-CSRF-Token": listing["csrf_token"]})
    return browser, listing["user"]["id"]


@dataclass
class Pools:
    """Real values the fuzz puts in place of generated ones, growing as the run creates."""

    groups: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    invites: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    short_codes: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)

    def add_invite(self, created: dict) -> None:
        self.invites.append(created["invite"])
        self.codes.append(created["code"])
        self.short_codes.append(created["short_code"])


def seed(service: Service) -> Pools:
    """``fuzzer`` owns ``fz``, belongs to ``ot/x`` (may invite two) and has a second identity;
    ``friend`` belongs to ``fz/a``; ``other`` owns ``ot``; invites by each of them, some the
    fuzzer may join (``ot/y``, ``ot/z``, ``ot``)."""
    base = service.url
    people, ids = {}, {}
    for name in (FUZZER, "friend", "other"):
        people[name], ids[name] = log_in(base, name)
    settings_ = load_settings(environ={}, run_dir=service.run_dir)
    store = open_store(settings_.database_url)
    services = Services.build(store, keystore.KeyCache(settings_.keys_dir).get, settings_)
    admin = AdminService(store, services.notifier, services.sessions.now, services.access)
    try:
        admin.ensure_group(GroupPath.parse("fz/a/b"), ("test", FUZZER))
        admin.ensure_group(GroupPath.parse("ot/x"), ("test", "other"))
        admin.ensure_group(GroupPath.parse("ot/y/q"))
        admin.ensure_group(GroupPath.parse("ot/z"))
        admin.add_member(GroupPath.parse("fz/a"), ids["friend"],
                         Grant(spots=5, depth=2, removal=Removal.INVITED))
        admin.add_member(GroupPath.parse("ot/x"), ids[FUZZER],
                         Grant(spots=2, depth=1, removal=Removal.INVITED, deplete=True))
        store.accounts.link(ids[FUZZER], "github", "fuzzer-gh", services.sessions.now())
    finally:
        store.dispose()
    pools = Pools(groups=["fz", "fz/a", "fz/a/b", "ot", "ot/x", "ot/y", "ot/z", "nope"],
                  users=list(ids.values()))
    plans = [("other", {"group": "ot/x", "accepts": 3, "spots": 1, "depth": 1}),
             ("other", {"group": "ot/y", "accepts": None}),
             ("other", {"group": "ot/z", "accepts": 2, "spots": 1}),
             ("other", {"group": "ot/y/q", "accepts": 5, "depth": 1}),
             ("other", {"group": "ot", "accepts": None, "confirm": True}),
             ("other", {"group": "ot/x", "accepts": 1, "accept_for": 5}),
             ("friend", {"group": "fz/a", "accepts": 2, "spots": 1}),
             ("friend", {"group": "fz/a/b", "deplete": True}),
             (FUZZER, {"group": "fz", "accepts": 2, "spots": 3, "depth": 2,
                       "removal": "any_below"})]
    for name, body in plans:
        created = people[name].post(f"{base}/login/access/invite", json=body)
        assert created.status_code == 201, created.text
        pools.add_invite(created.json())
    return pools


class Fuzzer:
    """The logged-in fuzzer. Its cookies are put back before every request (a case may send
    other cookies, and the answer set them); it logs in again once the run logged it out."""

    def __init__(self, base: str, pools: Pools) -> None:
        self.base = base
        self.pools = pools
        self.sent = 0
        self.logins = 0
        self.statuses: dict[int, int] = {}
        self.answered: dict[str, set[int]] = {}
        self.log_in()

    def log_in(self) -> None:
        self.browser, _ = log_in(self.base, FUZZER)
        self.cookies = self.browser.cookies.copy()
        self.logins += 1

    def send(self, case: schemathesis.Case) -> None:
        if self.cookies is None:
            self.log_in()
        self.browser.cookies = self.cookies.copy()
        response = case.call(base_url=f"{self.base}/login", session=self.browser, timeout=30)
        self.sent += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        self.answered.setdefault(case.operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS)
        self.learn(case, response)

    def learn(self, case: schemathesis.Case, response: schemathesis.Response) -> None:
        """Keep what the answer names for later requests; log in again if logged out."""
        path, status = case.operation.path, response.status_code
        own_cookies = not case.cookies
        if own_cookies and (status == 401 or (path == "/logout" and status == 200)):
            self.cookies = None
        elif path == "/access/invite" and status == 201:
            self.pools.add_invite(response.json())
        elif path == "/sessions" and status == 200:
            self.pools.handles[:] = [s["handle"] for s in response.json()["sessions"]]


def plant(case: schemathesis.Case, pools: Pools, pick: int) -> None:
    """Put real values (chosen by ``pick``) in place of generated ones, where the case has
    those fields."""
    def one(values: list[str]) -> str | None:
        return values[pick % len(values)] if values else None

    if "code" in (case.path_parameters or {}):
        case.path_parameters["code"] = one(pools.codes) or case.path_parameters["code"]
    if not isinstance(case.body, dict):
        return
    real = {"group": one(pools.groups), "user": one(pools.users), "invite": one(pools.invites),
            "handle": one(pools.handles), "provider": "github", "subject": "fuzzer-gh",
            "code": one(pools.short_codes)}
    for name in list(case.body):
        if real.get(name) is not None:
            case.body[name] = real[name]


def invariant_breaks(database: Path) -> list[str]:
    """What is wrong with the database: SQLite's own checks, then the invitation rules."""
    with sqlite3.connect(database) as db:
        problems = [f"integrity: {row}" for row in db.execute("PRAGMA integrity_check")
                    if row != ("ok",)]
        problems += [f"foreign key: {row}" for row in db.execute("PRAGMA foreign_key_check")]
        queries = {
            "an invite used past its accepts":
                "SELECT id FROM invites WHERE accepts IS NOT NULL AND uses > accepts",
            "an invite whose uses are not its redemptions":
                "SELECT id FROM invites i WHERE uses != "
                "(SELECT count(*) FROM redemptions r WHERE r.invite_id = i.id)",
            "a redemption of no invite":
                "SELECT invite_id FROM redemptions WHERE invite_id NOT IN (SELECT id FROM invites)",
            "a membership of no group":
                "SELECT user_id, group_path FROM memberships "
                "WHERE group_path NOT IN (SELECT path FROM access_groups)",
            "a membership of no user":
                "SELECT user_id FROM memberships WHERE user_id NOT IN (SELECT id FROM users)",
            "a member by invite without its redemption":
                "SELECT m.user_id FROM memberships m WHERE m.invite_id IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM redemptions r WHERE r.invite_id = m.invite_id "
                "AND r.user_id = m.user_id)",
            "a member by invite holding more than it granted":
                "SELECT m.user_id FROM memberships m JOIN invites i ON i.id = m.invite_id "
                "WHERE (i.spots IS NOT NULL AND (m.spots IS NULL OR m.spots > i.spots)) "
                "OR (i.depth IS NOT NULL AND (m.depth IS NULL OR m.depth > i.depth)) "
                "OR (i.access_expires IS NOT NULL "
                "AND (m.expires IS NULL OR m.expires > i.access_expires)) "
                "OR m.removal > i.removal",
            "negative spots or depth":
                "SELECT user_id FROM memberships WHERE spots < 0 OR depth < 0",
            "a group whose parent is missing":
                "SELECT path FROM access_groups WHERE parent IS NOT NULL "
                "AND parent NOT IN (SELECT path FROM access_groups)",
            "an invite to no group":
                "SELECT id FROM invites WHERE group_path NOT IN (SELECT path FROM access_groups)",
            "a session of no user":
                "SELECT handle FROM sessions WHERE user_id NOT IN (SELECT id FROM users)",
        }
        for what, query in queries.items():
            problems += [f"{what}: {row}" for row in db.execute(query)]
    return problems


def test_the_service_answers_every_fuzzed_request_as_documented(service: Service):
    schema = schemathesis.openapi.from_path(str(SPEC))
    pools = seed(service)
    fuzzer = Fuzzer(service.url, pools)
    cases = st.one_of(schema.as_strategy(GenerationMode.POSITIVE),
                      schema.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=cases, planted=st.integers(0, 3), pick=st.integers(0, 10_000))
    def fuzz(case: schemathesis.Case, planted: int, pick: int) -> None:
        if planted == 0:
            plant(case, pools, pick)
        fuzzer.send(case)

    fuzz()
    assert fuzzer.sent >= EXAMPLES
    through = {label for label, statuses in fuzzer.answered.items()
               if any(status < 300 for status in statuses)}
    assert MUST_GET_THROUGH - through == set(), f"never answered 2xx: {fuzzer.answered}"
    assert "Traceback" not in service.log.read_text(), "the service logged an exception"
    database = load_settings(environ={}, run_dir=service.run_dir).database_url
    assert invariant_breaks(Path(database.removeprefix("sqlite:///"))) == []


def test_the_invariant_checks_find_a_broken_database(tmp_path: Path):
    database = tmp_path / "login.db"
    open_store(f"sqlite:///{database}", migrate=True).dispose()
    assert invariant_breaks(database) == []
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO access_groups (path, root, parent, created_at) "
                   "VALUES ('chat', 'chat', NULL, 1)")
        db.execute("INSERT INTO invites (id, short_code, inviter_id, group_path, accept_by, "
                   "accepts, uses, removal, deplete, confirm, created_at) "
                   "VALUES ('i1', 'S1', 'u1', 'chat', 2, 1, 2, 0, 0, 0, 1)")
        db.execute("INSERT INTO memberships (user_id, group_path, removal, deplete, inviters, "
                   "created_at) VALUES ('u2', 'chat/gone', 0, 0, '', 1)")
    found = "\n".join(invariant_breaks(database))
    for problem in ("an invite used past its accepts", "an invite whose uses are not",
                    "a membership of no group", "a membership of no user"):
        assert problem in found
