"""Strict parsing of the create-invite request (SECURITY.md 9): every bad field names itself."""

from __future__ import annotations

import math

import flask
import pytest

from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import Grant, Removal
from flask_modular_login.server.invitations.form import (
    DEFAULT_ACCEPT_SECONDS,
    INVITE_FIELDS,
    Body,
    FieldError,
    InviteForm,
    parse_invite,
    read_body,
)

NOW = 1_800_000_000


def allow_all(target: str) -> str:
    return target


def parse(values: dict, json: bool = True, check=allow_all) -> InviteForm:
    return parse_invite(Body(values, json=json), check)


def test_defaults_and_typed_json():
    form = parse({"group": "chat/x"})
    assert form == InviteForm(group=GroupPath("chat", ("x",)))
    form = parse({"group": "chat", "accepts": None, "spots": 3, "depth": 1, "access_for": 3600.5,
                  "removal": "any_below", "confirm": True, "deplete": False, "accept_by": NOW + 9})
    assert (form.accepts, form.spots, form.depth, form.access_for) == (None, 3, 1, 3600.5)
    assert form.removal is Removal.ANY_BELOW and form.confirm and form.deplete is False
    assert form.accept_by == NOW + 9


def test_form_strings():
    form = parse({"group": "chat", "accepts": "unlimited", "spots": "2", "access_for": "86400",
                  "accept_by": "2030-01-31T12:00", "confirm": "on", "removal": "invited"},
                 json=False)
    assert form.accepts is None and form.spots == 2 and form.access_for == 86400
    assert form.accept_by == 1896091200 and form.confirm is True
    offset = parse({"group": "chat", "access_expires": "2030-01-31T13:00+01:00"}, json=False)
    assert offset.access_expires == 1896091200


@pytest.mark.parametrize("field, value", [
    ("group", None), ("group", 5), ("group", ""), ("group", "a//b"), ("group", "a/\x00"),
    ("group", "a\u202eb"), ("group", "x" * 1001), ("group", ["chat"]),
    ("accepts", 0), ("accepts", -1), ("accepts", True), ("accepts", 1.0), ("accepts", "1"),
    ("accepts", 10**30), ("spots", -5), ("spots", {"n": 1}), ("depth", 1_000_001),
    ("accept_by", math.nan), ("accept_by", math.inf), ("accept_by", -1), ("accept_by", "soon"),
    ("accept_by", 10**20), ("accept_by", False), ("accept_for", 0), ("accept_for", 1e300),
    ("access_for", -3600), ("access_expires", "2030-01-01"), ("removal", "all"),
    ("removal", 2), ("confirm", "yes"), ("confirm", 1), ("deplete", "true"),
    ("redirect", 7), ("redirect", "x" * 3000), ("redirect", "/a\nb"),
])
def test_bad_json_values_name_their_field(field, value):
    body = {"group": "chat", field: value}
    with pytest.raises(FieldError) as caught:
        parse(body)
    assert caught.value.field == field and field in caught.value.description


@pytest.mark.parametrize("field, value", [
    ("accepts", "-1"), ("accepts", "1e3"), ("accepts", " 1"), ("accepts", "\u0661"),
    ("accepts", "0x10"), ("spots", "Infinity"), ("depth", "NaN"), ("access_for", "1.5"),
    ("accept_by", "2030-13-01T00:00"), ("accept_by", "tomorrow"), ("confirm", "maybe"),
    ("accept_for", "99999999999999"),
])
def test_bad_form_values_name_their_field(field, value):
    with pytest.raises(FieldError) as caught:
        parse({"group": "chat", field: value}, json=False)
    assert caught.value.field == field


def test_group_is_required_and_times_are_exclusive():
    with pytest.raises(FieldError, match="group"):
        parse({"spots": 1})
    with pytest.raises(FieldError, match="access_for"):
        parse({"group": "chat", "access_expires": NOW + 5, "access_for": 5})
    with pytest.raises(FieldError, match="accept_for"):
        parse({"group": "chat", "accept_by": NOW + 5, "accept_for": 5})


def test_json_null_means_not_given_for_optional_fields():
    form = parse({"group": "chat", "redirect": None, "access_for": None, "deplete": None})
    assert form == InviteForm(group=GroupPath("chat"))


def test_redirect_must_pass_the_allowlist():
    with pytest.raises(FieldError) as caught:
        parse({"group": "chat", "redirect": "https://evil.com/"}, check=lambda target: None)
    assert caught.value.field == "redirect"


def test_request_defaults_acceptance_to_a_week_capped_by_the_inviters_access():
    form = parse({"group": "chat"})
    assert form.request(NOW, Grant.owner()).accept_by == NOW + DEFAULT_ACCEPT_SECONDS
    assert form.request(NOW, Grant(expires=NOW + 60)).accept_by == NOW + 60
    relative = parse({"group": "chat", "accept_for": 30})
    assert relative.request(NOW, Grant.owner()).accept_by == NOW + 30


@pytest.mark.parametrize("kwargs, field", [
    ({"json": ["group"]}, "body"),
    ({"data": "{not json", "content_type": "application/json"}, "body"),
    ({"json": {"group": "chat", "evil": 1}}, "evil"),
    ({"json": {"group": "chat", "csrf_token": "x"}}, "csrf_token"),
    ({"data": {"group": ["chat", "other"]}}, "group"),
    ({"data": {"group": "chat", "admin": "1"}}, "admin"),
])
def test_read_body_refuses_unknown_repeated_and_broken(kwargs, field):
    context = flask.Flask(__name__).test_request_context("/", method="POST", **kwargs)
    with context, pytest.raises(FieldError) as caught:
        read_body(INVITE_FIELDS)
    assert caught.value.field == field


def test_read_body_drops_empty_form_fields_and_the_csrf_token():
    app = flask.Flask(__name__)
    data = {"group": "chat", "spots": "", "csrf_token": "t"}
    with app.test_request_context("/", method="POST", data=data):
        assert read_body(INVITE_FIELDS) == Body({"group": "chat"}, json=False)
