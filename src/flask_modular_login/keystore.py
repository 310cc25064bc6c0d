"""Ed25519 signing keys in ``run/keys/``: created at mode 0600, rotated, loaded.

Files are named ``ed25519-<unix time>-<random>.pem``; the newest signs, all verify.
Rotating adds a key without removing the old ones, so leases signed before the
rotation stay valid until they end; :func:`prune` removes keys older than that.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .core.errors import LoginError
from .core.leases import KeyRing, SigningKey

PATTERN = "ed25519-*.pem"


@dataclass(frozen=True)
class Keys:
    signing: SigningKey
    ring: KeyRing


class OpenDirectory(LoginError, PermissionError):
    """A directory for keys and the database that other users may read, write or enter."""

    code = "directory_open"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` if missing, or refuse it if other users may use it.

    A directory made here (and every missing parent) gets mode 0700, whatever the
    umask. An existing one is checked, never changed: if others (neither its owner
    nor its group) have any access to it, e.g. 0755, it is refused with
    :class:`OpenDirectory` (a ``PermissionError``) naming the ``chmod`` that fixes
    it, since it holds the signing keys and the database. Group access (0750) is
    left to the admin: a client app or nginx running as another user of the group
    may need it.
    """
    missing = []
    parent = path
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.parent
    created = set()
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process made it first: checked below like any other
        os.chmod(directory, 0o700)  # the umask may have taken bits from mkdir's mode
        created.add(directory)
    if path not in created:
        _refuse_if_open(path)
    return path


def _refuse_if_open(path: Path) -> None:
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a directory")
    mode = path.stat().st_mode & 0o777
    if mode & 0o007:
        raise OpenDirectory(
            f"{path} is open to other users (mode {mode:04o}) and holds the signing keys and "
            f"the database: run 'chmod 700 {path}' (or 'chmod o-rwx {path}' to keep the "
            "group's access)")


def create_key(keys_dir: Path, now: float | None = None) -> Path:
    """Write a new private key, readable by its owner only; returns its path."""
    ensure_private_dir(keys_dir)
    stamp = int(time.time() if now is None else now)
    path = keys_dir / f"ed25519-{stamp:012d}-{secrets.token_hex(4)}.pem"
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private(path, pem)
    return path


def write_private(path: Path, data: bytes) -> bool:
    """Atomically create ``path`` (mode 0600) holding ``data``; False if it already exists.

    Readers never see a half-written file: the data goes to a temporary file that
    is then hard-linked into place, which fails if another process got there first.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def key_files(keys_dir: Path) -> list[Path]:
    """Key files, oldest first."""
    return sorted(keys_dir.glob(PATTERN))


def load(keys_dir: Path, create: bool = False) -> Keys:
    """The newest key for signing and every key for verifying.

    With ``create``, a first key is made when there is none; otherwise a missing
    key is an error (a client must not invent keys the service does not know).
    """
    files = key_files(keys_dir) if keys_dir.is_dir() else []
    if not files:
        if not create:
            raise FileNotFoundError(f"no signing key in {keys_dir}: run 'flask-modular-login init'")
        files = [create_key(keys_dir)]
    private = [_read(path) for path in files]
    return Keys(signing=SigningKey(private[-1]), ring=KeyRing(k.public_key() for k in private))


def _read(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def prune(keys_dir: Path, older_than: float, now: float | None = None) -> list[Path]:
    """Delete keys created more than ``older_than`` seconds ago, always keeping the newest."""
    limit = (time.time() if now is None else now) - older_than
    removed = [path for path in key_files(keys_dir)[:-1] if _stamp(path) < limit]
    for path in removed:
        path.unlink()
    return removed


def _stamp(path: Path) -> int:
    return int(path.name.split("-")[1])


class KeyCache:
    """Loads the keys of ``keys_dir`` once, again on demand (a rotation seen as an unknown
    key id)."""

    def __init__(self, keys_dir: Path) -> None:
        self._keys_dir = keys_dir
        self._keys: Keys | None = None

    def get(self) -> Keys:
        return self._keys or self.reload()

    def reload(self) -> Keys:
        self._keys = load(self._keys_dir)
        return self._keys
