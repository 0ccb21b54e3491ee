"""AES-GCM encryption at rest, key rotation and blind indexes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from grassroots.core import crypto

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def use_keyring(settings, tmp_path):
    """Point settings.KEYS_FILE at a fresh file; the cached keyring is dropped before and after."""

    def install(ring: crypto.Keyring) -> Path:
        path = tmp_path / f"keys-{ring.current}.json"
        crypto.write_keyring(path, ring)
        settings.KEYS_FILE = path
        crypto.keyring.cache_clear()
        return path

    yield install
    crypto.keyring.cache_clear()


@given(st.text(max_size=200))
def test_round_trip_any_text(text):
    blob = crypto.encrypt(text, context="person.id_number")
    assert crypto.decrypt(blob, context="person.id_number") == text


def test_ciphertext_hides_the_plaintext_and_is_randomised():
    a = crypto.encrypt("11010519491231002X", context="person.id_number")
    b = crypto.encrypt("11010519491231002X", context="person.id_number")
    assert b"11010519491231002X" not in a
    assert a != b  # a fresh nonce each time
    assert crypto.decrypt(memoryview(a), context="person.id_number") == "11010519491231002X"


def test_wrong_context_fails():
    blob = crypto.encrypt("13812345678", context="person.phone")
    with pytest.raises(InvalidTag):
        crypto.decrypt(blob, context="person.id_number")


@pytest.mark.parametrize("where", [0, 1, 2, 5, -1, -17])
def test_tampered_ciphertext_fails(where):
    blob = bytearray(crypto.encrypt("张伟 13812345678", context="person.phone"))
    blob[where] ^= 0x01
    with pytest.raises((InvalidTag, ValueError)):
        crypto.decrypt(bytes(blob), context="person.phone")


def test_truncated_or_empty_ciphertext_fails():
    blob = crypto.encrypt("x", context="c")
    for bad in (b"", blob[:1], blob[:10], blob[:-1]):
        with pytest.raises((InvalidTag, ValueError)):
            crypto.decrypt(bad, context="c")


def test_blind_index_is_deterministic_keyed_and_context_separated():
    a = crypto.blind_index("13812345678", context="person.phone")
    assert a == crypto.blind_index("13812345678", context="person.phone")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != crypto.blind_index("13812345678", context="person.id_number")
    assert a != crypto.blind_index("13812345679", context="person.phone")
    # Not a plain hash: knowing the value without the key does not give the index.
    import hashlib

    assert a != hashlib.sha256(b"person.phone\x0013812345678").hexdigest()


def test_context_and_value_cannot_be_shifted_into_each_other():
    assert crypto.blind_index("b", context="a.") != crypto.blind_index(".b", context="a")


def test_blind_index_changes_with_the_index_key(use_keyring):
    value = "11010519491231002X"
    use_keyring(crypto.new_keyring())
    first = crypto.blind_index(value, context="person.id_number")
    use_keyring(crypto.new_keyring())
    assert crypto.blind_index(value, context="person.id_number") != first


def test_old_ciphertexts_still_decrypt_after_a_new_current_key(use_keyring):
    ring = crypto.new_keyring()
    use_keyring(ring)
    old = crypto.encrypt("11010519491231002X", context="person.id_number")
    index_before = crypto.blind_index("11010519491231002X", context="person.id_number")
    assert crypto.key_id_of(old) == "k1"

    rotated = crypto.Keyring(
        current="k2",
        data_keys={**ring.data_keys, "k2": os.urandom(32)},
        index_key=ring.index_key,
    )
    use_keyring(rotated)
    new = crypto.encrypt("11010519491231002X", context="person.id_number")
    assert crypto.key_id_of(new) == "k2"
    assert crypto.decrypt(old, context="person.id_number") == "11010519491231002X"
    assert crypto.decrypt(new, context="person.id_number") == "11010519491231002X"
    assert crypto.blind_index("11010519491231002X", context="person.id_number") == index_before


def test_ciphertext_under_a_key_that_is_gone_fails_clearly(use_keyring):
    use_keyring(crypto.new_keyring())
    blob = crypto.encrypt("x", context="c")
    use_keyring(crypto.Keyring(current="k9", data_keys={"k9": os.urandom(32)}, index_key=os.urandom(32)))
    with pytest.raises(ValueError, match="k1"):
        crypto.decrypt(blob, context="c")


def test_keyring_json_round_trip_and_validation(tmp_path):
    ring = crypto.new_keyring()
    assert crypto.Keyring.from_json(ring.to_json()) == ring
    raw = json.loads(ring.to_json())
    with pytest.raises(ImproperlyConfigured, match="current"):
        crypto.Keyring.from_json(json.dumps({**raw, "current": "nope"}))
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        crypto.Keyring.from_json(json.dumps({**raw, "data_keys": {"k1": "c2hvcnQ="}}))


def test_keys_file_is_written_private(tmp_path):
    path = tmp_path / "sub" / "keys.json"
    crypto.write_keyring(path, crypto.new_keyring())
    assert path.stat().st_mode & 0o777 == 0o600
    assert not path.with_suffix(".tmp").exists()


def test_missing_keys_file_names_the_command(settings, tmp_path):
    settings.KEYS_FILE = tmp_path / "absent.json"
    crypto.keyring.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="init_keys"):
            crypto.keyring()
    finally:
        crypto.keyring.cache_clear()


# --- manage.py init_keys ------------------------------------------------------------------


def test_init_keys_writes_a_keyring_once(settings, tmp_path):
    settings.KEYS_FILE = tmp_path / "keys.json"
    call_command("init_keys")
    first = settings.KEYS_FILE.read_text()
    crypto.Keyring.from_json(first)
    call_command("init_keys")
    assert settings.KEYS_FILE.read_text() == first


def test_init_keys_refuses_force_and_does_not_overwrite(settings, tmp_path):
    settings.KEYS_FILE = tmp_path / "keys.json"
    call_command("init_keys")
    before = settings.KEYS_FILE.read_text()
    with pytest.raises(CommandError, match="refused") as excinfo:
        call_command("init_keys", "--force")
    assert excinfo.value.returncode == 2
    assert settings.KEYS_FILE.read_text() == before


def test_init_keys_force_exit_code_from_the_command_line(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text("sentinel")
    env = {**os.environ, "GRASSROOTS_KEYS_FILE": str(keys), "GRASSROOTS_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "init_keys", "--force"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "refused" in result.stderr
    assert keys.read_text() == "sentinel"


def test_keys_may_come_from_the_environment_instead_of_a_file(settings, tmp_path):
    ring = crypto.new_keyring()
    settings.KEYS_JSON = ring.to_json()
    settings.KEYS_FILE = tmp_path / "missing.json"
    crypto.keyring.cache_clear()
    try:
        blob = crypto.encrypt("13812345678", context="person.phone")
        assert crypto.key_id_of(blob) == ring.current
        assert crypto.decrypt(blob, context="person.phone") == "13812345678"
    finally:
        crypto.keyring.cache_clear()
