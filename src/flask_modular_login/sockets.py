"""The directory of the service's unix sockets: reachable by the web server, keys stay private.

``run/`` holds the signing keys and the database: only the service's user may
use it (0700; 0750 or 0710 for a group the admin chose). nginx's workers run as
another user (``www-data`` on Debian) and must connect to uwsgi's socket, so
the sockets (``uwsgi.sock``, ``channel.sock``) live in a directory of their own,
``LOGIN_SOCKET_DIR`` (default ``run/sockets``), made by :func:`ensure_socket_dir`:

* mode 02750: the group may enter and list it, others may not; the setgid bit
  makes every socket created inside belong to the directory's group;
* with ``LOGIN_SOCKET_GROUP``, that group (``chgrp``); the sockets are 0660
  (``chmod-socket`` in uwsgi.ini, the channel's own), so its members connect;
* when the directory lies inside ``run/`` and the group is set, ``run/`` lets
  that group pass through (``g+x``, group set) if it gave its group nothing
  yet: the group can then reach names it knows, never list ``run/`` or read a
  key (``keys/`` is 0700, every file in ``run/`` 0600).

Idempotent and safe when several processes start at once: an existing
directory is reused and its mode and group set again.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from .config import Settings
from .keystore import ensure_private_dir

SOCKET_DIR_MODE = 0o2750


class UnknownGroup(LookupError):
    """``LOGIN_SOCKET_GROUP`` names no group of this system."""


def ensure_socket_dir(settings: Settings) -> Path:
    """Create (or fix) ``settings.sockets_dir`` as described in the module; returns it."""
    path = settings.sockets_dir
    gid = group_id(settings.socket_group)
    inside_run = _inside(path, settings.run_dir)
    if inside_run:
        ensure_private_dir(settings.run_dir)
    path.mkdir(parents=True, exist_ok=True)
    if gid is not None:
        os.chown(path, -1, gid)
    os.chmod(path, SOCKET_DIR_MODE)
    if inside_run and gid is not None:
        _let_group_through(settings.run_dir, gid)
    return path


def group_id(name: str | None) -> int | None:
    """The id of group ``name`` (a name or a number); None for no group."""
    if not name:
        return None
    if name.isdigit():
        return int(name)
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise UnknownGroup(f"LOGIN_SOCKET_GROUP: no group named {name!r}") from None


def _inside(path: Path, parent: Path) -> bool:
    return path.resolve().is_relative_to(parent.resolve())


def _let_group_through(run_dir: Path, gid: int) -> None:
    """``run_dir`` gets group ``gid`` with search (x) only, unless it grants its group
    something already (the admin's choice, kept)."""
    info = run_dir.stat()
    if stat.S_IMODE(info.st_mode) & 0o070:
        return
    if info.st_gid != gid:
        shutil.chown(run_dir, group=gid)
    os.chmod(run_dir, stat.S_IMODE(info.st_mode) | 0o010)  # noqa: S103 (group: search only)
