"""The channel's doorbell: a unix datagram socket beside ``channel.sock``.

After a change commits (a logout, a membership change), whoever made it (the login
service under uwsgi, the CLI) rings the bell with an empty datagram, and the
channel server on the same host reads the event log at once instead of at its next
poll (every 50 ms). The ring carries nothing: it only makes the channel read the
log, so a stray ring costs one read and a lost one at most a poll interval. Hosts
on PostgreSQL also hear each other through ``NOTIFY``; the bell serves every host,
SQLite included.

::

    ring(settings.sockets_dir / BELL_NAME)     # after a commit; never raises
    bell = Bell(path, heard=hub.wake)          # the channel's side, on its event loop
    bell.open(asyncio.get_running_loop()); ...; bell.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

__all__ = ["BELL_NAME", "Bell", "ring"]

BELL_NAME = "channel.bell"
BELL_MODE = 0o660  # the socket directory's group may ring, as it may connect
logger = logging.getLogger("flask_modular_login.channel")


def ring(path: Path) -> None:
    """Ring the bell at ``path``; nothing happens when no channel listens there."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        with contextlib.suppress(OSError):  # no channel, or it has rings waiting already
            sock.sendto(b"", str(path))


class Bell:
    """The channel's side: calls ``heard`` on the event loop when rung (rings that
    arrive together are heard once)."""

    def __init__(self, path: Path, heard: Callable[[], None]) -> None:
        self.path = path
        self._heard = heard
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def open(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Listen at :attr:`path` (a stale socket there is replaced); False if it cannot,
        and the channel then hears changes at its next poll."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            sock.bind(str(self.path))
            os.chmod(self.path, BELL_MODE)
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._drain)
        except OSError as error:
            sock.close()
            logger.warning("channel: no doorbell at %s (%s); changes are read every poll",
                           self.path, error)
            return False
        self._socket, self._loop = sock, loop
        return True

    def close(self) -> None:
        sock, loop = self._socket, self._loop
        if sock is None or loop is None:
            return
        with contextlib.suppress(Exception):
            loop.remove_reader(sock.fileno())
        sock.close()
        self._socket = None
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _drain(self) -> None:
        sock = self._socket
        if sock is None:
            return
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while True:
                sock.recv(1)
        self._heard()
