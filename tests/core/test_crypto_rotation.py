"""Changing the keys file for rotation: add, activate and retire data keys; re-seal values."""

from __future__ import annotations

import threading

import pytest
from cryptography.exceptions import InvalidTag

from grassroots.core import crypto


@pytest.fixture
def keys_file(settings, tmp_path):
    """A keys file of its own in tmp_path; the session keyring is untouched."""
    path = tmp_path / "keys.json"
    crypto.write_keyring(path, crypto.new_keyring())
    settings.KEYS_FILE = path
    crypto.keyring.cache_clear()
    yield path
    crypto.keyring.cache_clear()


def test_add_data_key_keeps_old_keys_and_the_index_key(keys_file):
    before = crypto.read_keyring(keys_file)
    ring, kid = crypto.add_data_key(keys_file)
    assert kid == "k2"
    assert ring.current == "k2"
    assert ring.data_keys["k1"] == before.data_keys["k1"]
    assert len(ring.data_keys["k2"]) == 32 and ring.data_keys["k2"] != before.data_keys["k1"]
    assert ring.index_key == before.index_key
    assert crypto.read_keyring(keys_file) == ring
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in keys_file.parent.iterdir()) == ["keys.json", "keys.json.lock"]


def test_staged_key_is_readable_but_not_used_to_seal(keys_file):
    ring, kid = crypto.add_data_key(keys_file, make_current=False)
    assert ring.current == "k1" and kid in ring.data_keys
    crypto.keyring.cache_clear()
    assert crypto.key_id_of(crypto.encrypt("x", context="c")) == "k1"


def test_blind_index_survives_every_keys_file_change(keys_file):
    before = crypto.blind_index("13812345678", context="person.phone")
    crypto.add_data_key(keys_file)
    crypto.set_current_key(keys_file, "k1")
    crypto.retire_data_key(keys_file, "k2")
    crypto.keyring.cache_clear()
    assert crypto.blind_index("13812345678", context="person.phone") == before


def test_reencrypt_moves_a_value_to_the_current_key(keys_file):
    old = crypto.encrypt("11010519491231002X", context="person.id_number")
    assert crypto.reencrypt(old, context="person.id_number") is None  # already current
    crypto.add_data_key(keys_file)
    crypto.keyring.cache_clear()
    new = crypto.reencrypt(memoryview(old), context="person.id_number")
    assert new is not None and crypto.key_id_of(new) == "k2"
    assert new.startswith(crypto.key_prefix("k2"))
    assert crypto.decrypt(new, context="person.id_number") == "11010519491231002X"
    assert crypto.reencrypt(new, context="person.id_number") is None
    with pytest.raises(InvalidTag):  # wrong context fails, never a silent copy
        crypto.reencrypt(old, context="person.phone")


def test_key_prefix_separates_ids_that_share_a_start():
    assert not crypto.key_prefix("k10").startswith(crypto.key_prefix("k1"))
    blob = crypto.encrypt("x", context="c")
    assert blob.startswith(crypto.key_prefix(crypto.key_id_of(blob)))


def test_retired_ids_are_never_issued_again(keys_file):
    crypto.add_data_key(keys_file)  # k2 current
    crypto.add_data_key(keys_file, make_current=False)  # k3 staged
    ring = crypto.retire_data_key(keys_file, "k3")
    assert ring.retired == ("k3",) and "k3" not in ring.data_keys
    assert crypto.Keyring.from_json(ring.to_json()) == ring
    _, kid = crypto.add_data_key(keys_file)
    assert kid == "k4"


def test_set_current_and_retire_refuse_unknown_or_current_keys(keys_file):
    before = keys_file.read_bytes()
    with pytest.raises(KeyError):
        crypto.set_current_key(keys_file, "k9")
    with pytest.raises(KeyError):
        crypto.retire_data_key(keys_file, "k9")
    with pytest.raises(ValueError, match="current"):
        crypto.retire_data_key(keys_file, "k1")
    assert keys_file.read_bytes() == before


def test_concurrent_additions_do_not_lose_a_key(keys_file):
    ids: list[str] = []

    def add() -> None:
        ids.append(crypto.add_data_key(keys_file, make_current=False)[1])

    threads = [threading.Thread(target=add) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ring = crypto.read_keyring(keys_file)
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 8
    assert set(ids) <= set(ring.data_keys)


def test_old_keys_files_without_retired_still_load(keys_file):
    ring = crypto.read_keyring(keys_file)
    assert "retired" not in keys_file.read_text()
    assert ring.retired == ()
