"""Raw websocket connections to the channel server, driven message by message.

Open one with ``with open_raw(uri) as ws:``, then drive the handshake with
:func:`send_auth` or :func:`authenticate`.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection as SyncSocket
from websockets.sync.client import connect

from flask_modular_login.core.protocol.connection import ClientConnection, Send, Welcomed


def open_raw(uri: str) -> Any:
    """A context manager giving a synchronous websocket to ``uri``."""
    return connect(uri, open_timeout=5, close_timeout=1, compression=None)


def send_auth(ws: SyncSocket, credential: str, skew: float = 0.0) -> str:
    """Read the hello and answer with the auth for ``credential`` (the client's clock
    ``skew`` seconds off); returns the auth text as sent."""
    conn = ClientConnection.from_credential(credential, secrets.token_bytes(32),
                                            time.time() + skew)
    [send] = conn.receive_data(ws.recv(timeout=5), time.time() + skew)
    assert isinstance(send, Send)
    ws.send(send.text)
    return send.text


def authenticate(ws: SyncSocket, credential: str) -> tuple[ClientConnection, str]:
    """The whole handshake: the protocol state (welcomed) and the auth text sent."""
    conn = ClientConnection.from_credential(credential, secrets.token_bytes(32), time.time())
    [send] = conn.receive_data(ws.recv(timeout=5), time.time())
    assert isinstance(send, Send)
    ws.send(send.text)
    [welcome] = conn.receive_data(ws.recv(timeout=5), time.time())
    assert isinstance(welcome, Welcomed), welcome
    return conn, send.text


def close_code(ws: SyncSocket, timeout: float = 5.0) -> int:
    """Read until the server closes the connection; the close code it sent."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"the server did not close the connection within {timeout} s")
            ws.recv(timeout=remaining)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code
