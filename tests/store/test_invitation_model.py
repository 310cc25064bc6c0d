"""A stateful model of invitations over the real store, with a clock that moves.

Hypothesis drives the real :class:`AccessStore` (SQLite, migrated) through
invites, redemptions, repeated redemptions, expiry, removal, renege and
depleting invites, and after every step checks what SECURITY 16 and 17 promise:

* no member holds more than their inviter held when they joined, in any
  dimension, however later invites and expiries interleave;
* a second invite never re-parents or merges into an active membership;
* no invite is redeemed past its uses;
* no person redeems one invite twice.

The model runs on SQLite (``TestInvitationModel``) and on a real PostgreSQL
(``TestInvitationModelPostgresql``, a fresh database per run from the migrated
template of :mod:`tests.support.postgres`).

``LOGIN_MODEL_EXAMPLES`` sets how many runs to try (75 by default, so the suite
stays quick, PostgreSQL's a third of them; ``LOGIN_MODEL_EXAMPLES=5000 sh server.sh test
tests/store/test_invitation_model.py`` is the long run).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from flask_modular_login.core import invitations as rules
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import Grant, InviteRequest, Membership, Removal
from flask_modular_login.service import access as rights
from flask_modular_login.store import open_store
from tests.support.postgres import PostgresServer

START = 1_800_000_000
HOUR, DAY = 3_600, 86_400
CHAT = GroupPath("chat")
GROUPS = [CHAT, CHAT / "room"]
NAMES = ["o", "p", "v", "w", "x"]  # "o" owns chat

counts = st.sampled_from([0, 1, 2, 50, None])
times = st.sampled_from(["inviter", "for-hour", "for-day", "at-day"])


@functools.cache
def migrated_template() -> Path:
    """One migrated database, copied for every run (migrating each time would be slow)."""
    path = Path(tempfile.mkdtemp(prefix="model-")) / "template.db"
    open_store(f"sqlite:///{path}", migrate=True).dispose()
    return path


@dataclass(frozen=True)
class Issued:
    id: str
    code: str
    inviter_id: str
    accepts: int | None


@dataclass(frozen=True)
class Joined:
    """What the model remembers of one membership: the invite and the inviter's grant then."""

    invite_id: str
    inviter_then: Grant


def within(member: Grant, inviter: Grant) -> bool:
    """SECURITY 16, one dimension at a time (None: unlimited / never)."""
    def lim(value: float | None) -> float:
        return float("inf") if value is None else value

    depth_ok = inviter.depth is None or (member.depth is not None and member.depth < inviter.depth)
    return (lim(member.expires) <= lim(inviter.expires) and lim(member.spots) <= lim(inviter.spots)
            and depth_ok and member.removal <= inviter.removal
            and (member.deplete or not inviter.deplete))


class InvitationModel(RuleBasedStateMachine):
    invites = Bundle("invites")

    def __init__(self) -> None:
        super().__init__()
        self.store = open_store(self.new_database())
        self.now = START
        self.ids = {name: self.store.accounts.login("test", name, name, None, START).id
                    for name in NAMES}
        self.store.access.ensure_group(CHAT / "room", START, owner=("test", "o"))
        self.issued: list[Issued] = []
        self.redeemed: dict[tuple[str, str], int] = {}  # (invite, user) -> successful redemptions
        self.joined: dict[tuple[str, str], Joined] = {}  # (user, group) -> at join

    def new_database(self) -> str:
        """The URL of a fresh copy of the migrated template."""
        self.dir = Path(tempfile.mkdtemp(prefix="model-run-"))
        shutil.copy(migrated_template(), self.dir / "users.db")
        return f"sqlite:///{self.dir / 'users.db'}"

    def teardown(self) -> None:
        self.store.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ rules

    @rule(target=invites, inviter=st.sampled_from(NAMES), group=st.sampled_from(GROUPS),
          accepts=st.sampled_from([1, 2, 3, None]), spots=counts, depth=counts,
          removal=st.sampled_from(list(Removal)), access=times,
          deplete=st.sampled_from([None, False, True]))
    def invite(self, inviter, group, accepts, spots, depth, removal, access, deplete):
        return self._invite(inviter, group, accepts, spots, depth, removal, access, deplete)

    @rule(target=invites, inviter=st.sampled_from(NAMES), group=st.sampled_from(GROUPS),
          spots=counts, depth=counts)
    def invite_depleting(self, inviter, group, spots, depth):
        """Invites whose admissions also spend the inviter's spots."""
        return self._invite(inviter, group, None, spots, depth, Removal.NONE, "inviter", True)

    @rule(invite=invites, name=st.sampled_from(NAMES))
    def redeem(self, invite, name):
        if invite is not None:
            self._redeem(invite, self.ids[name])

    @precondition(lambda self: bool(self.redeemed))
    @rule(data=st.data())
    def re_redeem(self, data):
        invite_id, user_id = data.draw(st.sampled_from(sorted(self.redeemed)))
        self._redeem(next(i for i in self.issued if i.id == invite_id), user_id)

    @rule(seconds=st.sampled_from([60, HOUR, 2 * HOUR, DAY, 3 * DAY]))
    def expire(self, seconds):
        self.now += seconds

    @rule(remover=st.sampled_from(NAMES), data=st.data())
    def remove(self, remover, data):
        members = self.store.access.members(CHAT, subtree=True)
        if not members:
            return
        target = data.draw(st.sampled_from(members))
        mine = rights.holdings(self.store.access, self.ids[remover])
        if rights.may_remove(mine, target, self.now):
            assert self.store.access.remove_member(target.group, target.user_id, self.now)

    @rule(invite=invites)
    def renege(self, invite):
        if invite is not None:
            self.store.access.revoke_invite(invite.id, self.now)

    # ------------------------------------------------------------ invariants

    @invariant()
    def members_never_exceed_their_inviter_at_join(self):
        for member in self.store.access.members(CHAT, subtree=True):
            joined = self.joined.get((member.user_id, str(member.group)))
            assert joined is not None, f"a membership nobody joined: {member}"
            stored = self.store.access.membership(member.user_id, member.group)
            assert stored is not None
            assert within(member.grant, joined.inviter_then), (
                f"{member} holds more than its inviter held at join: {joined.inviter_then}")

    @invariant()
    def no_invite_is_redeemed_past_its_uses(self):
        for issued in self.issued:
            uses = self.store.access.invite_by_id(issued.id).state.uses
            assert issued.accepts is None or uses <= issued.accepts
            assert uses == sum(n for (i, _), n in self.redeemed.items() if i == issued.id)

    @invariant()
    def no_person_redeems_one_invite_twice(self):
        assert all(n == 1 for n in self.redeemed.values()), self.redeemed

    # ------------------------------------------------------------ helpers

    def _invite(self, inviter, group, accepts, spots, depth, removal, access, deplete):
        inviter_id = self.ids[inviter]
        holding = self.store.access.holding(inviter_id, group, self.now)
        if holding is None:
            return None
        relative = {"for-hour": HOUR, "for-day": DAY}.get(access)
        request = InviteRequest(
            group=group, accept_by=self.now + 7 * DAY, accepts=accepts, spots=spots, depth=depth,
            access_for=relative, access_expires=self.now + DAY if access == "at-day" else None,
            removal=removal, deplete=deplete)
        try:
            terms = rules.validate_invite(inviter_id, holding.grant, holding.group, request,
                                          self.now)
        except rules.InviteError:
            return None
        created = self.store.access.create_invite(terms, self.now)
        issued = Issued(created.id, created.code, inviter_id, accepts)
        self.issued.append(issued)
        return issued

    def _redeem(self, invite: Issued, user_id: str) -> None:
        group = self.store.access.invite_by_id(invite.id).terms.group
        inviter = self.store.access.holding(invite.inviter_id, group, self.now)
        before = self._snapshot()
        was_member = self.store.access.membership(user_id, group)
        try:
            joined: Membership = self.store.access.redeem(invite.code, user_id, self.now)
        except rules.RedeemError:
            assert self._snapshot() == before, "a refused redemption changed the store"
            return
        key = (invite.id, user_id)
        self.redeemed[key] = self.redeemed.get(key, 0) + 1
        assert was_member is None or not was_member.grant.active(self.now), (
            f"an active membership {was_member} was replaced through another invite")
        assert inviter is not None and joined.inviters[0] == invite.inviter_id
        self.joined[(user_id, str(group))] = Joined(invite.id, inviter.grant)

    def _snapshot(self) -> tuple[object, ...]:
        members = self.store.access.members(CHAT, subtree=True)
        uses = [self.store.access.invite_by_id(i.id).state.uses for i in self.issued]
        return tuple(members), tuple(uses)


class PostgresqlInvitationModel(InvitationModel):
    """The same model over PostgreSQL: a new database per run, dropped afterwards."""

    server: PostgresServer | None = None

    def new_database(self) -> str:
        assert self.server is not None, "the postgres fixture sets the server"
        self.url = self.server.database()
        return self.url

    def teardown(self) -> None:
        self.store.dispose()
        assert self.server is not None
        self.server.drop(self.url)


def model_settings(share: float = 1.0) -> settings:
    examples = int(os.environ.get("LOGIN_MODEL_EXAMPLES", "75"))
    return settings(
        max_examples=max(1, int(examples * share)),
        stateful_step_count=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


InvitationModel.TestCase.settings = model_settings()
TestInvitationModel = InvitationModel.TestCase
PostgresqlInvitationModel.TestCase.settings = model_settings(1 / 3)
TestInvitationModelPostgresql = PostgresqlInvitationModel.TestCase


@pytest.fixture(autouse=True)
def _postgres_for_the_model(request: pytest.FixtureRequest) -> None:
    if request.cls is TestInvitationModelPostgresql:
        PostgresqlInvitationModel.server = request.getfixturevalue("postgres")
