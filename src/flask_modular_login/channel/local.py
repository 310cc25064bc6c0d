"""The credential local client apps use on the channel's unix socket, to hear events pushed.

A local client app shares ``run/`` with the service, so it may read a credential
kept there: ``run/channel-local.credential`` (mode 0600) for the client named
:data:`LOCAL_CLIENT`. The channel makes it when it starts (again if the file is
missing, or the client was revoked) and local clients connect with it to
``run/sockets/channel.sock`` (``LOGIN_SOCKET_DIR``); polling the event log stays
their fallback.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from ..core.protocol import auth
from ..keystore import write_private
from ..store import Store

LOCAL_CLIENT = "local"
CREDENTIAL_FILE = "channel-local.credential"
SOCKET_NAME = "channel.sock"


def credential_path(run_dir: Path) -> Path:
    return run_dir / CREDENTIAL_FILE


def ensure_local_credential(store: Store, run_dir: Path) -> None:
    """Make sure ``run/channel-local.credential`` holds a working credential of the local
    client; a new one replaces a missing, unreadable or revoked one."""
    path = credential_path(run_dir)
    try:
        key = auth.parse_credential(path.read_text())[1]
    except (OSError, ValueError):
        key = b""
    record = store.clients.lookup(LOCAL_CLIENT)
    if record is not None and not record.revoked and record.key == key:
        return
    if record is not None and not record.revoked:
        store.clients.revoke(LOCAL_CLIENT, int(time.time()))
    credential = auth.new_credential(LOCAL_CLIENT, secrets.token_bytes(auth.SECRET_BYTES))
    store.clients.add(LOCAL_CLIENT, auth.parse_credential(credential)[1], int(time.time()))
    path.unlink(missing_ok=True)
    write_private(path, credential.encode())


def local_channel(run_dir: Path, sockets_dir: Path | None = None) -> tuple[str, str] | None:
    """``(address, credential)`` of the channel's unix socket (in ``sockets_dir``, default
    ``run_dir/sockets``: ``LOGIN_SOCKET_DIR``), if it runs and this process may read the
    local credential; else None (the client polls only)."""
    socket = (sockets_dir or run_dir / "sockets") / SOCKET_NAME
    try:
        credential = credential_path(run_dir).read_text().strip()
    except OSError:
        return None
    return (f"unix:{socket}", credential) if socket.exists() else None
