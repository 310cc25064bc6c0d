"""Where a channel client connects: ``ws://host:port``, ``wss://host:port`` or ``unix:/path``;
several of them (one per login-service host) to fail over between."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Address", "parse_address", "parse_addresses"]


@dataclass(frozen=True)
class Address:
    """``uri`` to open; ``unix_path`` set when it is a unix socket (``uri`` is then nominal)."""

    uri: str
    unix_path: str | None = None

    def __str__(self) -> str:
        return f"unix:{self.unix_path}" if self.unix_path else self.uri


def parse_address(text: str) -> Address:
    """The address in ``text``; ValueError for anything but the three forms above."""
    if not isinstance(text, str):
        raise ValueError("a channel address is a string")
    if text.startswith("unix:"):
        path = text.removeprefix("unix:")
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise ValueError("unix: needs a socket path, "
                             "e.g. unix:/srv/login/run/sockets/channel.sock")
        return Address("ws://localhost/", path)
    if text.startswith(("ws://", "wss://")) and len(text.split("://", 1)[1]) > 0:
        return Address(text)
    raise ValueError(f"a channel address is ws://host:port, wss://host:port or unix:/path, "
                     f"not {text[:80]!r}")


def parse_addresses(uris: str | Sequence[str]) -> tuple[Address, ...]:
    """One address or several: a sequence, or one string with commas between them
    (``"wss://a.example/login/channel, wss://b.example/login/channel"``)."""
    items = uris.split(",") if isinstance(uris, str) else list(uris)
    addresses = tuple(parse_address(item.strip() if isinstance(item, str) else item)
                      for item in items)
    if not addresses:
        raise ValueError("no channel address given")
    return addresses
