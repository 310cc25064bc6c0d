"""Ed25519 signing keys in ``run/keys/``: created at mode 0600, rotated, loaded.

Files are named ``ed25519-<unix time>-<random>.pem``, the time being when the key
starts signing: the newest key whose time has come signs, and every key verifies.
Rotating adds a key without removing the old ones, so leases signed before the
rotation stay valid until they end; :func:`prune` removes keys older than that.

Several login-service hosts share one key set (the same files in each host's
``run/keys/``). A rotation is staged so that no host signs with a key that another
host cannot verify yet: ``keys rotate --activate-in 600`` writes a key that every
host verifies as soon as its file is there and that signs, everywhere at once, ten
minutes later; copy it to every host in between.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable
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


def create_key(keys_dir: Path, now: float | None = None, activate_in: float = 0) -> Path:
    """Write a new private key, readable by its owner only, that signs from ``activate_in``
    seconds on (and verifies at once); returns its path."""
    if activate_in < 0:
        raise ValueError("activate_in must be >= 0")
    ensure_private_dir(keys_dir)
    stamp = int((time.time() if now is None else now) + activate_in)
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


RUN_SECRET = "flask_secret"  # noqa: S105 - a file name, not a secret


def run_secret(run_dir: Path) -> bytes:
    """The secret kept in ``run_dir/flask_secret`` (32 random bytes, mode 0600, made on
    first use): the same after a restart and for every process sharing ``run/``. It signs
    the login service's own Flask cookie (CSRF token, OAuth state) and, derived, what the
    service caches in memcached; every host of one deployment holds the same file."""
    path = ensure_private_dir(run_dir) / RUN_SECRET
    write_private(path, os.urandom(32))
    return path.read_bytes()


def key_files(keys_dir: Path) -> list[Path]:
    """Key files, oldest first."""
    return sorted(keys_dir.glob(PATTERN))


def load(keys_dir: Path, create: bool = False, now: float | None = None) -> Keys:
    """The signing key (:func:`signing_file`) and every key for verifying.

    With ``create``, a first key is made when there is none; otherwise a missing
    key is an error (a client must not invent keys the service does not know).
    """
    files = key_files(keys_dir) if keys_dir.is_dir() else []
    if not files:
        if not create:
            raise FileNotFoundError(f"no signing key in {keys_dir}: run 'flask-modular-login init'")
        files = [create_key(keys_dir)]
    private = {path: _read(path) for path in files}
    return Keys(signing=SigningKey(private[signing_file(files, now)]),
                ring=KeyRing(key.public_key() for key in private.values()))


def signing_file(files: list[Path], now: float | None = None) -> Path:
    """Of ``files`` (oldest first), the newest whose time has come; the oldest if none has."""
    moment = time.time() if now is None else now
    active = [path for path in files if _stamp(path) <= moment]
    return active[-1] if active else files[0]


def _read(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def prune(keys_dir: Path, older_than: float, now: float | None = None) -> list[Path]:
    """Delete keys created more than ``older_than`` seconds ago, never the one that signs
    nor any newer one."""
    moment = time.time() if now is None else now
    files = key_files(keys_dir)
    if not files:
        return []
    signing = signing_file(files, moment)
    removed = [path for path in files[:files.index(signing)]
               if _stamp(path) < moment - older_than]
    for path in removed:
        path.unlink()
    return removed


def _stamp(path: Path) -> int:
    return int(path.name.split("-")[1])


class KeyCache:
    """The keys of ``keys_dir``, loaded once and again whenever a key file is added or
    removed (the directory changed) or a staged key's time to sign has come; :meth:`reload`
    forces it (a verifier that meets an unknown key id)."""

    def __init__(self, keys_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self._keys_dir = keys_dir
        self._clock = clock
        self._keys: Keys | None = None
        self._seen: tuple[int, float] = (0, 0.0)  # the directory's mtime, next activation

    def get(self) -> Keys:
        mtime = self._mtime()
        if (self._keys is None or mtime != self._seen[0]
                or self._clock() >= self._seen[1]):
            return self.reload()
        return self._keys

    def reload(self) -> Keys:
        now = self._clock()
        mtime = self._mtime()
        self._keys = load(self._keys_dir, now=now)
        pending = [stamp for stamp in map(_stamp, key_files(self._keys_dir)) if stamp > now]
        self._seen = (mtime, min(pending, default=math.inf))
        return self._keys

    def _mtime(self) -> int:
        try:
            return self._keys_dir.stat().st_mtime_ns
        except FileNotFoundError:
            return 0
