"""Encryption at rest for personal data (AES-256-GCM) and keyed hashes for exact search.

The keys file (settings.KEYS_FILE) is JSON::

    {"current": "k1", "data_keys": {"k1": "<base64 32 bytes>"}, "index_key": "<base64 32 bytes>"}

A ciphertext is ``version(1) | key-id length(1) | key id | nonce(12) | ciphertext+tag``, so
old rows stay readable after a new current key is added (rotation re-encrypts them).
The index key never rotates: changing it would mean re-hashing every row at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
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

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        raw = json.loads(text)
        keys = {kid: base64.b64decode(value) for kid, value in raw["data_keys"].items()}
        if raw["current"] not in keys:
            raise ImproperlyConfigured("keys file: 'current' names no data key")
        if any(len(k) != 32 for k in keys.values()):
            raise ImproperlyConfigured("keys file: every data key must be 32 bytes (base64)")
        return cls(current=raw["current"], data_keys=keys, index_key=base64.b64decode(raw["index_key"]))

    def to_json(self) -> str:
        return json.dumps(
            {
                "current": self.current,
                "data_keys": {kid: base64.b64encode(k).decode() for kid, k in self.data_keys.items()},
                "index_key": base64.b64encode(self.index_key).decode(),
            },
            indent=2,
        )


def new_keyring() -> Keyring:
    return Keyring(current="k1", data_keys={"k1": AESGCM.generate_key(256)}, index_key=os.urandom(32))


def write_keyring(path: Path, ring: Keyring) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(ring.to_json())
    tmp.chmod(0o600)
    tmp.replace(path)


@lru_cache(maxsize=1)
def keyring() -> Keyring:
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


def blind_index(value: str, *, context: str) -> str:
    """Keyed hash for exact-match search without decrypting (HMAC-SHA256, hex)."""
    return hmac.new(keyring().index_key, f"{context}\x00{value}".encode(), hashlib.sha256).hexdigest()
