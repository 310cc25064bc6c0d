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

from .core.leases import KeyRing, SigningKey

PATTERN = "ed25519-*.pem"


@dataclass(frozen=True)
class Keys:
    signing: SigningKey
    ring: KeyRing


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if missing and refuse one others can read."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


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
