"""Helpers of the invitation view tests: logged-in browsers, a small group world, PNG reading."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable

import flask

from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import Grant, Removal
from flask_modular_login.store.access import AccessStore

JSON = {"Accept": "application/json"}
CHAT = GroupPath("chat")


class Browser:
    """One Flask test client logged in as one user of the login service."""

    def __init__(self, service: flask.Flask, login: Callable[..., str], name: str,
                 ip: str = "127.0.0.1") -> None:
        self.name = name
        self.client = service.test_client()
        self.client.environ_base["REMOTE_ADDR"] = ip
        login(name, client=self.client)
        self.id: str = self.client.get("/login/", headers=JSON).json["user"]["id"]

    @property
    def csrf(self) -> str:
        return self.client.get("/login/access/invite").json["csrf_token"]

    def get_json(self, path: str, **kwargs):
        return self.client.get(path, headers=JSON, **kwargs)

    def post_json(self, path: str, body: object):
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf, **JSON})

    def post_form(self, path: str, data: dict, **kwargs):
        return self.client.post(path, data={**data, "csrf_token": self.csrf}, **kwargs)


class People:
    """``people["alice"]``: a browser logged in as alice (made on first use)."""

    def __init__(self, service: flask.Flask, login: Callable[..., str]) -> None:
        self.service = service
        self._login = login
        self._browsers: dict[str, Browser] = {}

    def __getitem__(self, name: str) -> Browser:
        if name not in self._browsers:
            self._browsers[name] = Browser(self.service, self._login, name)
        return self._browsers[name]


def access_of(service: flask.Flask) -> AccessStore:
    return service.extensions["flask_modular_login"].store.access


def invite(browser: Browser, **fields: object) -> dict:
    """Create an invite through the JSON twin; the answer's JSON (asserts 201)."""
    response = browser.post_json("/login/access/invite", {"group": "chat", **fields})
    assert response.status_code == 201, response.text
    return response.json


def accept_path(created: dict) -> str:
    return "/login/access/accept/" + created["code"]


def chat_world(service: flask.Flask, people: People, now: float) -> None:
    """olivia owns ``chat``; alice joined through olivia's invite (5 spots, depth 2, may remove
    those she invites)."""
    access_of(service).ensure_group(CHAT, int(now), owner=("test", "olivia"))
    created = invite(people["olivia"], accepts=1, spots=5, depth=2, removal="invited")
    joined = people["alice"].post_json(accept_path(created), {})
    assert joined.status_code == 200, joined.text
    assert access_of(service).membership(people["alice"].id, CHAT).grant == Grant(
        spots=5, depth=2, removal=Removal.INVITED)


def png_matrix(data_uri_or_bytes: str | bytes, scale: int = 8) -> list[list[bool]]:
    """The modules of a 1-bit greyscale PNG (as :mod:`server.invitations.qr` writes), True: dark."""
    data = data_uri_or_bytes
    if isinstance(data, str):
        data = base64.b64decode(data.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (1, 0) and width == height
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + (width + 7) // 8
    rows = [raw[y * stride:(y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)

    def dark(x: int, y: int) -> bool:
        byte = rows[y][1 + x // 8]
        return not (byte >> (7 - x % 8)) & 1

    centre = scale // 2
    return [[dark(x, y) for x in range(centre, width, scale)] for y in range(centre, height, scale)]
