"""examples/chat_images_app.py (the original README's chat snippet, a callable group:
``~(chat / DMing / "blocked") & (chat / DMing / user["id"] / img / "read_access")``) with
the pytest plugin's ``login_client``: no login service runs."""

from __future__ import annotations

import pytest

JSON = {"Accept": "application/json"}
CAT = "/chats/bob/images/cat"


@pytest.fixture
def app(load_example):
    return load_example("chat_images_app").app


def test_logged_out_is_redirected_or_401(login_client, app):
    client = login_client(app)
    answer = client.get(CAT)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("//localhost:8000/login/")
    assert client.get(CAT, headers=JSON).status_code == 401


def test_logged_in_without_read_access_is_403(login_client, app):
    client = login_client(app)
    client.login(user_id="ann", name="Ann")
    assert client.get(CAT).status_code == 403


def test_read_access_shows_the_image(login_client, app):
    client = login_client(app)
    client.login(user_id="ann", name="Ann", groups=["chat/bob/ann/cat/read_access"])
    answer = client.get(CAT)
    assert answer.status_code == 200
    assert answer.text == "image cat of chat bob, shown to Ann"


def test_read_access_to_one_image_does_not_open_another(login_client, app):
    client = login_client(app)
    client.login(user_id="ann", groups=["chat/bob/ann/cat/read_access"])
    assert client.get("/chats/bob/images/dog").status_code == 403
    assert client.get("/chats/eve/images/cat").status_code == 403   # nor another chat


def test_the_path_uses_the_viewers_own_id(login_client, app):
    # Ann's grant sits under her id: another user cannot use it.
    ann = login_client(app)
    ann.login(user_id="ann", groups=["chat/bob/ann/cat/read_access"])
    carl = login_client(app)
    carl.login(user_id="carl")
    assert ann.get(CAT).status_code == 200
    assert carl.get(CAT).status_code == 403


def test_blocked_beats_read_access(login_client, app):
    client = login_client(app)
    client.login(user_id="ann", groups=["chat/bob/ann/cat/read_access"])
    assert client.get(CAT).status_code == 200
    client.grant("chat/bob/blocked")
    assert client.get(CAT).status_code == 403
    assert client.get("/chats/eve/images/cat").status_code == 403   # still no access there
    client.revoke("chat/bob/blocked")
    assert client.get(CAT).status_code == 200


def test_access_to_a_folder_opens_every_image_below_it(login_client, app):
    # read_access is the last segment, so a membership higher up (chat/bob/ann) opens
    # every image of Ann in chat bob.
    client = login_client(app)
    client.login(user_id="ann", groups=["chat/bob/ann"])
    assert client.get(CAT).status_code == 200
    assert client.get("/chats/bob/images/dog").status_code == 200
    assert client.get("/chats/eve/images/cat").status_code == 403


def test_the_namespace_owner_counts_as_blocked(login_client, app):
    # The owner of chat holds the whole tree (the fake models no owners: we give it as a
    # membership). Access flows down, so chat/<DMing>/blocked is held too and ~blocked is
    # False: the snippet, as written, refuses the owner in every chat (the real store
    # answers the same: an owner's nearest membership of chat/bob/blocked is chat).
    client = login_client(app)
    client.login(user_id="127.0.0.1", groups=["chat"])
    assert client.get(CAT).status_code == 403
    assert client.get("/chats/eve/images/cat").status_code == 403


def test_a_member_of_a_whole_chat_counts_as_blocked_in_it(login_client, app):
    # Likewise chat/bob holds chat/bob/blocked: grant images, never the chat itself.
    client = login_client(app)
    client.login(user_id="ann", groups=["chat/bob"])
    assert client.get(CAT).status_code == 403
