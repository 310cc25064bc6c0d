"""Invitation limits, validation and redemption rules (core.invitations), with a fixed clock."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_modular_login.core.errors import LoginError
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import (
    AlreadyMember,
    BadValue,
    Escalation,
    ExceedsDepth,
    ExceedsExpiry,
    ExceedsRemoval,
    ExceedsSpots,
    Expired,
    Grant,
    InviteError,
    InviteRequest,
    InviteState,
    InviteTerms,
    Membership,
    OutsideGroup,
    Redeemer,
    RedeemError,
    Removal,
    Revoked,
    SelfInvite,
    UsedUp,
    may_remove,
    may_renege,
    redeem,
    spend_spot,
    spot_payers,
    validate_invite,
)

NOW = 1_000_000.0
DAY = 86_400.0
ROOT = GroupPath("chat")
GROUP = ROOT / "room"
INVITER = Grant(expires=NOW + 30 * DAY, spots=5, depth=3, removal=Removal.INVITED)


def request(**changes) -> InviteRequest:
    base = {"group": GROUP, "accept_by": NOW + DAY, "accepts": 2, "spots": 1, "depth": 1}
    return InviteRequest(**{**base, **changes})


def terms_for(req: InviteRequest | None = None, grant: Grant = INVITER) -> InviteTerms:
    return validate_invite("alice", grant, GROUP, req or request(), NOW)


FRESH = InviteState()


def redeem_as(
    user: str = "bob", *, terms=None, state=FRESH, existing=None, member=None, redeemed=False,
    now=NOW, inviter=INVITER,
) -> Grant:
    """``existing``: the nearest active grant at or above the group; ``member``: one on it."""
    redeemer = Redeemer(user, redeemed=redeemed, member=member, nearest=existing)
    return redeem(terms or terms_for(), state, redeemer, now, inviter=inviter)


def lim(value):
    return math.inf if value is None else value


def assert_within(invitee: Grant, inviter: Grant) -> None:
    """The no-escalation invariant, one dimension at a time."""
    assert lim(invitee.expires) <= lim(inviter.expires)
    assert lim(invitee.spots) <= lim(inviter.spots)
    if inviter.depth is not None:
        assert invitee.depth is not None
        assert invitee.depth < inviter.depth
    assert invitee.removal <= inviter.removal
    assert invitee.deplete or not inviter.deplete


# -- errors --------------------------------------------------------------------------------


def test_error_tree_and_stable_codes():
    codes = {
        InviteError: "invite_error",
        BadValue: "bad_value",
        Escalation: "escalation",
        ExceedsDepth: "exceeds_depth",
        ExceedsSpots: "exceeds_spots",
        ExceedsExpiry: "exceeds_expiry",
        ExceedsRemoval: "exceeds_removal",
        OutsideGroup: "outside_group",
        RedeemError: "redeem_error",
        Expired: "expired",
        UsedUp: "used_up",
        Revoked: "revoked",
        AlreadyMember: "already_member",
        SelfInvite: "self_invite",
    }
    assert {cls: cls.code for cls in codes} == codes
    assert issubclass(InviteError, LoginError)
    for cls in (ExceedsDepth, ExceedsSpots, ExceedsExpiry, ExceedsRemoval, OutsideGroup):
        assert issubclass(cls, Escalation)
    for cls in (Expired, UsedUp, Revoked, AlreadyMember, SelfInvite):
        assert issubclass(cls, RedeemError)


def test_errors_carry_their_evidence():
    with pytest.raises(ExceedsSpots) as info:
        validate_invite("alice", INVITER, GROUP, request(spots=9), NOW)
    assert (info.value.field, info.value.requested, info.value.limit) == ("spots", 9, 5)


# -- grants --------------------------------------------------------------------------------


def test_grant_defaults_cannot_invite_and_owner_can():
    assert not Grant().can_invite
    assert not Grant(spots=3, depth=0).can_invite
    assert not Grant(spots=0, depth=3).can_invite
    assert Grant.owner().can_invite
    assert Grant.owner().covers(INVITER)
    assert not INVITER.covers(Grant.owner())


def test_grant_activity_ends_at_expiry():
    assert Grant(expires=NOW + 1).active(NOW)
    assert not Grant(expires=NOW).active(NOW)
    assert Grant(expires=None).active(NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"expires": math.nan},
        {"expires": math.inf},
        {"expires": "soon"},
        {"expires": True},
        {"spots": -1},
        {"spots": 1.5},
        {"spots": True},
        {"depth": -1},
        {"depth": "2"},
        {"removal": 2},
        {"deplete": 1},
    ],
)
def test_grant_rejects_bad_values(changes):
    with pytest.raises(BadValue):
        Grant(**changes)


def test_grants_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        INVITER.spots = 99  # type: ignore[misc]


# -- validate_invite -----------------------------------------------------------------------


def test_valid_request_becomes_terms():
    terms = terms_for(request(redirect="/chat", confirm=True, removal=Removal.INVITED))
    assert terms == InviteTerms(
        inviter_id="alice",
        group=GROUP,
        accept_by=NOW + DAY,
        accepts=2,
        spots=1,
        depth=1,
        access_expires=INVITER.expires,
        access_for=None,
        removal=Removal.INVITED,
        deplete=False,
        redirect="/chat",
        confirm=True,
    )


def test_invite_to_a_subgroup_is_allowed():
    req = request(group=GROUP / "thread" / "1")
    assert validate_invite("alice", INVITER, GROUP, req, NOW).group == GROUP / "thread" / "1"


@pytest.mark.parametrize("group", [ROOT, ROOT / "other", ROOT / "roomy", GroupPath("room")])
def test_invite_outside_own_subtree_is_refused(group):
    with pytest.raises(OutsideGroup):
        validate_invite("alice", INVITER, GROUP, request(group=group), NOW)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"depth": 3}, ExceedsDepth),
        ({"depth": 4}, ExceedsDepth),
        ({"depth": None}, ExceedsDepth),
        ({"spots": 6}, ExceedsSpots),
        ({"spots": None}, ExceedsSpots),
        ({"accepts": 6}, ExceedsSpots),
        ({"accepts": None}, ExceedsSpots),
        ({"accept_by": NOW + 31 * DAY}, ExceedsExpiry),
        ({"access_expires": NOW + 31 * DAY}, ExceedsExpiry),
        ({"removal": Removal.ANY_BELOW}, ExceedsRemoval),
    ],
)
def test_escalations_are_refused(changes, error):
    with pytest.raises(error):
        validate_invite("alice", INVITER, GROUP, request(**changes), NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"depth": 2},
        {"spots": 5},
        {"accepts": 5},
        {"accept_by": NOW + 30 * DAY},
        {"access_expires": NOW + 30 * DAY},
        {"removal": Removal.INVITED},
    ],
)
def test_exactly_the_inviters_limits_are_allowed(changes):
    validate_invite("alice", INVITER, GROUP, request(**changes), NOW)


@pytest.mark.parametrize(
    "inviter",
    [
        dataclasses.replace(INVITER, depth=0),
        dataclasses.replace(INVITER, depth=1),
    ],
)
def test_inviter_depth_bounds_invitee_depth_strictly(inviter):
    with pytest.raises(ExceedsDepth):
        validate_invite("alice", inviter, GROUP, request(depth=inviter.depth), NOW)


def test_inviter_without_spots_cannot_invite():
    with pytest.raises(ExceedsSpots):
        validate_invite("alice", dataclasses.replace(INVITER, spots=0), GROUP, request(), NOW)


def test_unlimited_only_from_unlimited():
    req = request(spots=None, depth=None, accepts=None, removal=Removal.ANY_BELOW)
    terms = validate_invite("owner", Grant.owner(), ROOT, req, NOW)
    assert (terms.spots, terms.depth, terms.accepts, terms.access_expires) == (None,) * 4


def test_expired_inviter_cannot_invite():
    inviter = dataclasses.replace(INVITER, expires=NOW)
    with pytest.raises(ExceedsExpiry):
        validate_invite("alice", inviter, GROUP, request(accept_by=NOW + 1), NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"accept_by": NOW},
        {"accept_by": NOW - 1},
        {"accept_by": math.nan},
        {"accept_by": None},
        {"access_expires": NOW},
        {"access_expires": math.nan},
        {"access_for": 0},
        {"access_for": -5},
        {"access_for": math.inf},
        {"access_for": DAY, "access_expires": NOW + DAY},
        {"accepts": 0},
        {"accepts": True},
        {"spots": -1},
        {"depth": 1.0},
        {"removal": "ANY_BELOW"},
        {"deplete": "yes"},
        {"confirm": None},
        {"redirect": 42},
        {"group": "chat/room"},
    ],
)
def test_bad_values_are_refused(changes):
    with pytest.raises(BadValue):
        validate_invite("alice", INVITER, GROUP, request(**changes), NOW)


def test_depleting_inviter_makes_depleting_invitees():
    inviter = dataclasses.replace(INVITER, deplete=True)
    assert validate_invite("alice", inviter, GROUP, request(deplete=False), NOW).deplete
    assert not terms_for(request()).deplete
    assert terms_for(request(deplete=True)).deplete


# -- redeem --------------------------------------------------------------------------------


def test_redeem_grants_the_terms():
    grant = redeem_as()
    assert grant == Grant(expires=INVITER.expires, spots=1, depth=1, removal=Removal.NONE)


def test_relative_access_starts_at_acceptance():
    terms = terms_for(request(access_for=DAY))
    assert redeem_as(terms=terms, now=NOW + 100).expires == NOW + 100 + DAY


def test_relative_access_is_capped_by_the_inviters_expiry():
    terms = terms_for(request(access_for=365 * DAY))
    assert redeem_as(terms=terms, now=NOW + 10).expires == INVITER.expires


def test_relative_access_is_capped_by_the_inviters_current_expiry():
    terms = terms_for(request(access_for=20 * DAY))
    shrunk = dataclasses.replace(INVITER, expires=NOW + 2 * DAY)
    assert redeem_as(terms=terms, inviter=shrunk).expires == NOW + 2 * DAY


def test_redeem_clamps_to_the_inviters_current_grant():
    terms = terms_for(request(spots=5, depth=2, removal=Removal.INVITED, accepts=5))
    now_inviter = Grant(expires=NOW + DAY, spots=1, depth=2, removal=Removal.NONE, deplete=True)
    grant = redeem_as(terms=terms, inviter=now_inviter)
    assert grant == Grant(expires=NOW + DAY, spots=1, depth=1, removal=Removal.NONE, deplete=True)


def test_acceptance_expiry_boundary():
    assert redeem_as(now=NOW + DAY - 1)
    with pytest.raises(Expired):
        redeem_as(now=NOW + DAY)


def test_access_already_over_at_acceptance_is_expired():
    terms = terms_for(request(access_expires=NOW + 10, accept_by=NOW + 100))
    with pytest.raises(Expired):
        redeem_as(terms=terms, now=NOW + 10)


def test_inviter_access_over_is_expired():
    with pytest.raises(Expired):
        redeem_as(inviter=dataclasses.replace(INVITER, expires=NOW))


def test_used_up():
    assert redeem_as(state=InviteState(uses=1))
    with pytest.raises(UsedUp):
        redeem_as(state=InviteState(uses=2))


def test_unlimited_accepts_never_run_out():
    terms = validate_invite("o", Grant.owner(), ROOT, request(group=ROOT, accepts=None), NOW)
    assert redeem_as(terms=terms, state=InviteState(uses=10**9), inviter=Grant.owner())


@pytest.mark.parametrize(
    ("state", "inviter"),
    [
        (InviteState(revoked=True), INVITER),
        (InviteState(), None),
        (InviteState(), dataclasses.replace(INVITER, depth=0)),
    ],
)
def test_revoked(state, inviter):
    with pytest.raises(Revoked):
        redeem_as(state=state, inviter=inviter)


def test_inviter_out_of_spots_uses_the_invite_up():
    with pytest.raises(UsedUp):
        redeem_as(inviter=dataclasses.replace(INVITER, spots=0))


def test_inviter_cannot_redeem_own_invite():
    with pytest.raises(SelfInvite):
        redeem_as("alice")


@pytest.mark.parametrize(
    "existing",
    [
        Grant(expires=INVITER.expires, spots=1, depth=1),
        Grant(expires=None, spots=3, depth=2, removal=Removal.INVITED),
    ],
)
def test_already_a_member_with_equal_or_better_access(existing):
    with pytest.raises(AlreadyMember):
        redeem_as(existing=existing)


@pytest.mark.parametrize(
    "existing",
    [
        Grant(expires=NOW + DAY, spots=1, depth=1),
        Grant(expires=None, spots=0, depth=1),
        Grant(expires=None, spots=9, depth=0),
        Grant(expires=None, spots=9, depth=9, deplete=True),
        Grant(expires=NOW, spots=9, depth=9),
    ],
)
def test_lesser_or_lapsed_access_from_above_does_not_block_joining(existing):
    assert redeem_as(existing=existing) == redeem_as()


@pytest.mark.parametrize(
    "member",
    [
        Grant(expires=NOW + 1, spots=0, depth=0),
        Grant(expires=None, spots=0, depth=0),
        Grant(expires=None, spots=9, depth=9, removal=Removal.ANY_BELOW),
    ],
)
def test_an_active_member_of_the_group_is_refused_however_good_the_invite(member):
    with pytest.raises(AlreadyMember, match="leave it first"):
        redeem_as(member=member, existing=member)


def test_a_lapsed_membership_of_the_group_counts_as_none():
    lapsed = Grant(expires=NOW, spots=50, depth=5, removal=Removal.ANY_BELOW)
    assert redeem_as(member=lapsed) == redeem_as()


def test_a_person_redeems_an_invite_at_most_once():
    with pytest.raises(AlreadyMember, match="already joined through this invite"):
        redeem_as(redeemed=True)


@pytest.mark.parametrize("state", [InviteState(uses=1), InviteState(revoked=True)],
                         ids=["their own use filled it", "revoked since"])
def test_a_second_try_says_already_joined_whatever_became_of_the_invite(state):
    terms = terms_for(request(accepts=1))
    with pytest.raises(AlreadyMember, match="already joined through this invite"):
        redeem_as(terms=terms, state=state, redeemed=True)


def test_invite_state_rejects_bad_values():
    for changes in ({"uses": -1}, {"uses": None}, {"revoked": "no"}):
        with pytest.raises(BadValue):
            InviteState(**changes)


# -- spots and depletion -------------------------------------------------------------------


def test_spend_spot():
    assert spend_spot(Grant(spots=2)).spots == 1
    assert spend_spot(Grant(spots=None)).spots is None
    with pytest.raises(UsedUp):
        spend_spot(Grant(spots=0))


def test_spot_payers_climb_while_depleting():
    plain, depleting = Grant(spots=1), Grant(spots=1, deplete=True)
    assert spot_payers([]) == 0
    assert spot_payers([plain]) == 1
    assert spot_payers([plain, plain, depleting]) == 1
    assert spot_payers([plain, depleting, depleting, plain, depleting]) == 3
    assert spot_payers([depleting, depleting]) == 2


# -- removal and renege --------------------------------------------------------------------


def member(user, group=GROUP, removal=Removal.NONE, inviters=(), expires=None) -> Membership:
    return Membership(user, group, Grant(expires=expires, removal=removal), tuple(inviters))


ALICE_ANY = member("alice", removal=Removal.ANY_BELOW, inviters=("owner",))
ALICE_INVITED = member("alice", removal=Removal.INVITED, inviters=("owner",))
ALICE_NONE = member("alice", inviters=("owner",))


@pytest.mark.parametrize(
    ("remover", "target", "allowed"),
    [
        (ALICE_NONE, member("alice", GROUP / "x"), True),
        (ALICE_NONE, member("bob", inviters=("alice",)), False),
        (ALICE_INVITED, member("bob", inviters=("alice",)), True),
        (ALICE_INVITED, member("bob", GROUP / "x", inviters=("alice",)), True),
        (ALICE_INVITED, member("carol", inviters=("bob", "alice")), False),
        (ALICE_INVITED, member("bob", GROUP / "x", inviters=("owner",)), False),
        (ALICE_ANY, member("carol", inviters=("bob", "alice")), True),
        (ALICE_ANY, member("carol", GROUP / "x", inviters=("owner",)), True),
        (ALICE_ANY, member("dave", inviters=("owner",)), False),
        (ALICE_ANY, member("owner", inviters=()), False),
        (ALICE_ANY, member("owner", ROOT), False),
        (ALICE_ANY, member("bob", ROOT / "other", inviters=("alice",)), False),
        (ALICE_ANY, member("bob", ROOT, inviters=("alice",)), False),
        (
            dataclasses.replace(ALICE_ANY, grant=Grant(expires=NOW, removal=Removal.ANY_BELOW)),
            member("bob", inviters=("alice",)),
            False,
        ),
    ],
)
def test_may_remove(remover, target, allowed):
    assert may_remove(remover, target, NOW) is allowed


def test_may_renege_own_invite_only():
    terms = terms_for()
    assert may_renege("alice", terms, NOW)
    assert not may_renege("bob", terms, NOW)


def test_may_renege_invites_of_those_one_may_remove():
    terms = terms_for()  # alice's invite
    alice = member("alice", inviters=("carol",))
    carol = member("carol", removal=Removal.INVITED)
    assert may_renege("carol", terms, NOW, remover=carol, inviter=alice)
    assert not may_renege("carol", terms, NOW, remover=carol, inviter=ALICE_NONE)
    assert not may_renege("carol", terms, NOW, remover=carol)
    assert not may_renege("mallory", terms, NOW, remover=carol, inviter=alice)
    bob = member("bob", inviters=("carol",))
    assert not may_renege("carol", terms, NOW, remover=carol, inviter=bob)


# -- properties ----------------------------------------------------------------------------

expiries = st.one_of(st.none(), st.floats(NOW + 1, NOW + 100 * DAY))
counts = st.one_of(st.none(), st.integers(0, 6))
removals = st.sampled_from(list(Removal))
grants = st.builds(
    Grant, expires=expiries, spots=counts, depth=counts, removal=removals, deplete=st.booleans()
)
GROUPS = [ROOT, GROUP, GROUP / "x", ROOT / "other", GroupPath("elsewhere")]


@st.composite
def requests(draw) -> InviteRequest:
    relative = draw(st.booleans())
    return InviteRequest(
        group=draw(st.sampled_from([GROUP, GROUP / "x", *GROUPS])),
        accept_by=draw(st.floats(NOW + 1, NOW + 100 * DAY)),
        accepts=draw(st.one_of(st.none(), st.integers(1, 7))),
        spots=draw(counts),
        depth=draw(counts),
        access_expires=None if relative else draw(expiries),
        access_for=draw(st.one_of(st.none(), st.floats(1, 100 * DAY))) if relative else None,
        removal=draw(removals),
        deplete=draw(st.one_of(st.none(), st.booleans())),
    )


def escalations(inviter: Grant, req: InviteRequest) -> set[type[Escalation]]:
    """The rules of SECURITY 16, written out independently of the module."""
    found: set[type[Escalation]] = set()
    if not GROUP.contains(req.group):
        found.add(OutsideGroup)
    asked = [req.accept_by] + ([] if req.access_expires is None else [req.access_expires])
    if max(asked) > lim(inviter.expires):  # access_expires None: as long as the inviter's
        found.add(ExceedsExpiry)
    if inviter.depth is not None and lim(req.depth) >= inviter.depth:
        found.add(ExceedsDepth)
    if max(lim(req.spots), lim(req.accepts)) > lim(inviter.spots):
        found.add(ExceedsSpots)
    if req.removal > inviter.removal:
        found.add(ExceedsRemoval)
    return found


@settings(database=None, max_examples=500)
@given(inviter=grants, req=requests())
def test_validate_refuses_exactly_the_escalations(inviter, req):
    expected = escalations(inviter, req)
    if not expected:
        terms = validate_invite("alice", inviter, GROUP, req, NOW)
        assert lim(terms.access_expires) <= lim(inviter.expires)
        assert terms.deplete or not inviter.deplete
        return
    with pytest.raises(Escalation) as info:
        validate_invite("alice", inviter, GROUP, req, NOW)
    assert type(info.value) in expected


@settings(database=None, max_examples=500)
@given(
    inviter=grants,
    stored=st.builds(
        InviteTerms,
        inviter_id=st.just("alice"),
        group=st.just(GROUP),
        accept_by=st.just(NOW + 200 * DAY),
        accepts=st.just(None),
        spots=counts,
        depth=counts,
        access_expires=expiries,
        access_for=st.one_of(st.none(), st.floats(1, 1000 * DAY)),
        removal=removals,
        deplete=st.booleans(),
    ),
    later=st.floats(0, 50 * DAY),
)
def test_redeem_never_exceeds_the_inviter_even_with_stale_terms(inviter, stored, later):
    at = NOW + later
    doomed = not (inviter.can_invite and inviter.active(at)) or lim(stored.access_expires) <= at
    try:
        grant = redeem(stored, InviteState(), Redeemer("bob"), at, inviter=inviter)
    except RedeemError:
        assert doomed
        return
    assert not doomed
    assert_within(grant, inviter)


@st.composite
def near(draw, limit, *, nullable=True):
    """A count around ``limit`` (None = unlimited): mostly allowed, sometimes just over."""
    top = 6 if limit is None else limit + 1
    if nullable and draw(st.integers(0, 9)) == 0:
        return None
    return draw(st.integers(0, top))


def access(now: float) -> st.SearchStrategy[dict[str, float]]:
    """No access expiry (as long as the inviter's), an absolute one, or a relative one."""
    span = st.floats(1, 100 * DAY)
    return st.one_of(
        st.just({}),
        span.map(lambda s: {"access_expires": now + s}),
        span.map(lambda s: {"access_for": s}),
    )


@settings(database=None, max_examples=300)
@given(data=st.data(), first=grants, steps=st.integers(1, 8))
def test_no_escalation_along_invite_chains(data, first, steps):
    """validate + redeem, again and again down one chain: every link stays within its inviter."""
    inviter, group, now, links = first, GROUP, NOW, 0
    for _ in range(steps):
        wanted = group / "s" if data.draw(st.integers(0, 9)) else ROOT / "other"
        req = InviteRequest(
            group=wanted,
            accept_by=now + data.draw(st.floats(1, 10 * DAY)),
            accepts=max(1, data.draw(near(inviter.spots, nullable=False))),
            spots=data.draw(near(inviter.spots)),
            depth=data.draw(near(inviter.depth)),
            removal=Removal(data.draw(st.integers(0, min(inviter.removal + 1, 2)))),
            deplete=data.draw(st.one_of(st.none(), st.booleans())),
            **data.draw(access(now)),
        )
        try:
            terms = validate_invite(f"u{links}", inviter, group, req, now)
        except Escalation:
            continue
        now = data.draw(st.floats(now, terms.accept_by))
        spent = data.draw(st.integers(0, 3))
        current = dataclasses.replace(
            inviter, spots=None if inviter.spots is None else max(1, inviter.spots - spent)
        )
        try:
            invitee = redeem(terms, InviteState(), Redeemer(f"u{links + 1}"), now, inviter=current)
        except RedeemError:
            continue
        assert_within(invitee, current)
        assert_within(invitee, inviter)
        inviter, group, links = invitee, wanted, links + 1


@settings(database=None, max_examples=200)
@given(data=st.data(), spots=st.integers(0, 6), rounds=st.integers(1, 40))
def test_depletion_bounds_every_admission_below_a_depleting_member(data, spots, rounds):
    """Members form an invite tree; each admission spends spot_payers spots up the chain.

    A depleting member's initial spots bound the admissions in their whole invite subtree.
    """
    top = Grant(expires=None, spots=spots, depth=None, removal=Removal.NONE, deplete=True)
    owner = Grant.owner()
    grants_, parent, initial = [owner, top], [None, 0], [None, spots]
    admitted = [0, 0]
    for _ in range(rounds):
        who = data.draw(st.integers(0, len(grants_) - 1))
        if who == 0 or not grants_[who].can_invite:
            continue
        inviter = grants_[who]
        req = InviteRequest(
            group=GROUP,
            accept_by=NOW + 1,
            spots=data.draw(near(inviter.spots, nullable=False)),
            depth=data.draw(near(inviter.depth, nullable=False)),
            deplete=data.draw(st.one_of(st.none(), st.booleans())),
        )
        try:
            terms = validate_invite(str(who), inviter, GROUP, req, NOW)
            invitee = redeem(terms, InviteState(), Redeemer("new"), NOW, inviter=inviter)
        except InviteError:
            continue
        chain = []
        node = who
        while node is not None:
            chain.append(node)
            node = parent[node]
        payers = chain[: spot_payers([grants_[n] for n in chain])]
        try:
            spent = [spend_spot(grants_[n]) for n in payers]
        except UsedUp:
            continue  # the transaction aborts: nobody is admitted
        for n, grant in zip(payers, spent, strict=True):
            grants_[n] = grant
        for n in chain:
            admitted[n] += 1
        grants_.append(invitee)
        parent.append(who)
        initial.append(invitee.spots)
        admitted.append(0)
    for n, grant in enumerate(grants_):
        if grant.deplete and initial[n] is not None:
            assert admitted[n] <= initial[n]
    assert admitted[1] <= spots


@settings(database=None, max_examples=300)
@given(
    member=st.none() | grants,
    nearest=st.none() | grants,
    redeemed=st.booleans(),
    offset=st.floats(min_value=0, max_value=40 * DAY),
)
def test_redemption_is_the_clamped_terms_alone_or_a_refusal(member, nearest, redeemed, offset):
    """Never a mix: whatever the redeemer held, the result is what a newcomer would get."""
    now = NOW + offset
    try:
        fresh = redeem_as(now=now)
    except RedeemError:
        fresh = None
    try:
        got = redeem_as(member=member, existing=nearest, redeemed=redeemed, now=now)
    except RedeemError:
        return
    assert got == fresh
    assert not redeemed and (member is None or not member.active(now))
