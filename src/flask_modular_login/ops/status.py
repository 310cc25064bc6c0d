"""``flask-modular-login status``: ask the running service and channel whether they are up.

The service is asked ``GET <prefix>/health`` over uwsgi's unix socket
(``<sockets>/uwsgi.sock``) in the uwsgi protocol, as nginx would; the channel is
asked for its ``hello`` on its TCP port. :func:`report` returns the lines to
print and whether everything is up (the command's exit status).
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from websockets.sync.client import connect

from ..config import Settings

UWSGI_SOCKET = "uwsgi.sock"
TIMEOUT = 5.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def uwsgi_packet(variables: Mapping[str, str]) -> bytes:
    """A uwsgi request (modifier 0: a WSGI request) carrying ``variables``, without body."""
    body = b"".join(
        struct.pack("<H", len(k)) + k + struct.pack("<H", len(v)) + v
        for k, v in ((key.encode("latin-1"), value.encode("latin-1"))
                     for key, value in variables.items()))
    return struct.pack("<BHB", 0, len(body), 0) + body


def parse_http(raw: bytes) -> Answer:
    """The status and body of a raw HTTP/1.x response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise ValueError("not an HTTP response")
    return Answer(int(status_line[1]), body)


def uwsgi_get(socket_path: Path, path: str, timeout: float = TIMEOUT) -> Answer:
    """``GET path`` over the uwsgi socket ``socket_path``."""
    variables = {"REQUEST_METHOD": "GET", "REQUEST_URI": path, "PATH_INFO": path,
                 "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "localhost",
                 "SERVER_PORT": "80", "HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1",
                 "HTTP_ACCEPT": "application/json"}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        sock.sendall(uwsgi_packet(variables))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return parse_http(b"".join(chunks))


def service_status(settings: Settings) -> tuple[bool, str]:
    where = settings.sockets_dir / UWSGI_SOCKET
    try:
        answer = uwsgi_get(where, f"{settings.url_prefix}/health")
        parts = json.loads(answer.body)["parts"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, f"service: unreachable at unix:{where} ({type(error).__name__})"
    described = ", ".join(f"{part} {state}" for part, state in sorted(parts.items()))
    up = answer.status == 200
    return up, f"service: {'up' if up else 'DOWN'} at unix:{where} ({described})"


def channel_status(settings: Settings) -> tuple[bool, str]:
    where = f"ws://{settings.channel_host}:{settings.channel_port}"
    try:
        with connect(where, open_timeout=TIMEOUT, close_timeout=1) as ws:
            hello = json.loads(ws.recv(timeout=TIMEOUT))
        up = hello.get("type") == "hello"
    except Exception as error:  # refused, timed out, not a websocket, not our hello
        return False, f"channel: unreachable at {where} ({type(error).__name__})"
    return up, f"channel: {'up' if up else 'DOWN'} at {where}"


def report(settings: Settings) -> tuple[bool, list[str]]:
    """Whether the service and the channel are up, and one line on each."""
    checks = [service_status(settings), channel_status(settings)]
    return all(up for up, _ in checks), [line for _, line in checks]
