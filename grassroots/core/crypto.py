"""Encryption at rest for personal data (AES-256-GCM) and keyed hashes for exact search.

The keys file (settings.KEYS_FILE) is JSON::

    {"current": "k1", "data_keys": {"k1": "<base64 32 bytes>"}, "index_key": "<base64 32 bytes>",
     "retired": ["k0"]}

A ciphertext is ``version(1) | key-id length(1) | key id | nonce(12) | ciphertext+tag``, so
old rows stay readable after a new current key is added (rotation re-encrypts them).
The index key never rotates: changing it would mean re-hashing every row at once.
``retired`` lists removed key ids so an id is never issued twice (an old backup sealed
under a reused id would then fail as "altered" instead of "key missing").

Rotation (``manage.py rotate_keys``) changes the file with ``add_data_key``,
``set_current_key`` and ``retire_data_key``: each reads the file afresh (not the cached
keyring), under an exclusive lock, and replaces it atomically.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_VERSION = 1


@dataclass(frozen=True)
class Keyring:
    current: str
    data_keys: dict[str, bytes]
    index_key: bytes
    retired: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        raw = json.loads(text)
        keys = {kid: base64.b64decode(value) for kid, value in raw["data_keys"].items()}
        if raw["current"] not in keys:
            raise ImproperlyConfigured("keys file: 'current' names no data key")
        if any(len(k) != 32 for k in keys.values()):
            raise ImproperlyConfigured("keys file: every data key must be 32 bytes (base64)")
        return cls(
            current=raw["current"],
            data_keys=keys,
            index_key=base64.b64decode(raw["index_key"]),
            retired=tuple(raw.get("retired", ())),
        )

    def to_json(self) -> str:
        raw: dict[str, object] = {
            "current": self.current,
            "data_keys": {kid: base64.b64encode(k).decode() for kid, k in self.data_keys.items()},
            "index_key": base64.b64encode(self.index_key).decode(),
        }
        if self.retired:
            raw["retired"] = list(self.retired)
        return json.dumps(raw, indent=2)


def new_keyring() -> Keyring:
    return Keyring(current="k1", data_keys={"k1": AESGCM.generate_key(256)}, index_key=os.urandom(32))


def write_keyring(path: Path, ring: Keyring) -> None:
    """Replace the keys file atomically: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary name in the same directory (rename is atomic only within a file system).
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(ring.to_json())
            handle.flush()
            os.fsync(handle.fileno())  # the data must be on disk before the rename makes it the file
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # and the rename itself must survive a crash
    finally:
        os.close(dir_fd)


def read_keyring(path: Path) -> Keyring:
    """The keys file as it is on disk now (``keyring()`` is cached per process)."""
    if not path.exists():
        raise ImproperlyConfigured(f"keys file {path} is missing: run `manage.py init_keys`")
    return Keyring.from_json(path.read_text())


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Serialises read-modify-write of the keys file between concurrent rotate_keys runs.
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


_KEY_ID = re.compile(r"k([0-9]+)\Z")


def next_key_id(ring: Keyring) -> str:
    """``k<n+1>`` after the highest ``k<n>`` ever issued, retired ones included."""
    numbers = [int(m.group(1)) for kid in (*ring.data_keys, *ring.retired) if (m := _KEY_ID.match(kid))]
    return f"k{max(numbers, default=0) + 1}"


def add_data_key(path: Path, *, make_current: bool = True) -> tuple[Keyring, str]:
    """Add a fresh 32-byte data key to the keys file; old keys and the index key stay as they are.

    Returns the new keyring and the new key id. With ``make_current=False`` the key is only
    staged: every process that loads the file can read values sealed with it, none writes them.
    """
    with _locked(path):
        ring = read_keyring(path)
        kid = next_key_id(ring)
        keys = {**ring.data_keys, kid: AESGCM.generate_key(256)}
        new = replace(ring, data_keys=keys, current=kid if make_current else ring.current)
        write_keyring(path, new)
    return new, kid


def set_current_key(path: Path, kid: str) -> Keyring:
    """Make an existing data key the one new values are sealed with."""
    with _locked(path):
        ring = read_keyring(path)
        if kid not in ring.data_keys:
            raise KeyError(kid)
        new = replace(ring, current=kid)
        if new != ring:
            write_keyring(path, new)
    return new


def retire_data_key(path: Path, kid: str) -> Keyring:
    """Remove a data key that no longer seals anything (the caller checks that); never the current one."""
    with _locked(path):
        ring = read_keyring(path)
        if kid not in ring.data_keys:
            raise KeyError(kid)
        if kid == ring.current:
            raise ValueError(f"data key {kid!r} is the current key")
        keys = {k: v for k, v in ring.data_keys.items() if k != kid}
        new = replace(ring, data_keys=keys, retired=(*ring.retired, kid))
        write_keyring(path, new)
    return new


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    # The keyring may come from the environment (a secret store injecting it) instead of a file.
    if settings.KEYS_JSON:
        return Keyring.from_json(settings.KEYS_JSON)
    path = Path(settings.KEYS_FILE)
    if not path.exists():
        raise ImproperlyConfigured(f"keys file {path} is missing: run `manage.py init_keys`")
    return Keyring.from_json(path.read_text())


def encrypt(plaintext: str, *, context: str) -> bytes:
    """Encrypt ``plaintext``; ``context`` (e.g. "person.id_number") binds it to its column."""
    ring = keyring()
    kid = ring.current.encode()
    nonce = os.urandom(12)
    sealed = AESGCM(ring.data_keys[ring.current]).encrypt(nonce, plaintext.encode(), context.encode())
    return bytes([_VERSION, len(kid)]) + kid + nonce + sealed


def decrypt(blob: bytes, *, context: str) -> str:
    """Decrypt a value sealed by ``encrypt``.

    Raises ``ValueError`` for a malformed value or one sealed under a key the keys file no
    longer holds, and ``cryptography.exceptions.InvalidTag`` when the value was altered or
    belongs to another context.
    """
    blob = bytes(blob)
    if not blob or blob[0] != _VERSION:
        raise ValueError("unknown ciphertext version")
    if len(blob) < 2 or len(blob) < 2 + blob[1] + 12 + 16:
        raise ValueError("ciphertext is truncated")
    klen = blob[1]
    kid = blob[2 : 2 + klen].decode(errors="replace")
    key = keyring().data_keys.get(kid)
    if key is None:
        raise ValueError(f"ciphertext was sealed with data key {kid!r}, which the keys file does not hold")
    nonce = blob[2 + klen : 14 + klen]
    return AESGCM(key).decrypt(nonce, blob[14 + klen :], context.encode()).decode()


def key_id_of(blob: bytes) -> str:
    blob = bytes(blob)
    return blob[2 : 2 + blob[1]].decode()


def key_prefix(kid: str) -> bytes:
    """The leading bytes of every value sealed with ``kid`` (lets SQL find them without decrypting)."""
    raw = kid.encode()
    return bytes([_VERSION, len(raw)]) + raw


def reencrypt(blob: bytes, *, context: str) -> bytes | None:
    """``blob`` sealed again under the current key, or None when it already is."""
    blob = bytes(blob)
    if blob[: 2 + len(keyring().current.encode())] == key_prefix(keyring().current):
        return None
    return encrypt(decrypt(blob, context=context), context=context)


def blind_index(value: str, *, context: str) -> str:
    """Keyed hash for exact-match search without decrypting (HMAC-SHA256, hex)."""
    return hmac.new(keyring().index_key, f"{context}\x00{value}".encode(), hashlib.sha256).hexdigest()
