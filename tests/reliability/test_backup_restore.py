"""The restore drill: back a small city up, restore it into a fresh database and media folder.

Every table must come back with the same rows (count and ordered-content checksum), every
uploaded file with the same bytes, the audit chain intact, and a sealed value must still open
with the keys file (which travels apart from the archive). A flipped byte, a cut-off archive
and a wrong key are refused before anything is touched; a database that holds data is replaced
only with --force.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grassroots.core.backup import generate_key_file
from tests.reliability.drill import ENGINES, child_env, manage, prepare, scratch_database, script

pytestmark = [pytest.mark.slow, pytest.mark.database_url]  # children reach their own databases


def _digest(env: dict[str, str]) -> dict:
    return json.loads(script(env, "backup_seed", "digest"))


def _refused(env: dict[str, str], archive: Path, *args: str) -> str:
    result = manage(env, "restore", str(archive), *args, ok=False)
    assert result.returncode == 2, result.stdout + result.stderr
    return result.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_backup_then_restore_into_a_fresh_database(engine, tmp_path):
    site, fresh = tmp_path / "site", tmp_path / "fresh"
    key_file, other_key = tmp_path / "backup.key", tmp_path / "other.key"
    archive = tmp_path / "city.grbk"
    with scratch_database(engine, tmp_path, "bk") as source_url, scratch_database(engine, tmp_path, "rs") as target_url:
        env = child_env(site, source_url, GRASSROOTS_BACKUP_KEY_FILE=str(key_file))
        prepare(env)
        script(env, "backup_seed", "seed")
        generate_key_file(key_file)  # what `manage.py backup --generate-key FILE` does
        generate_key_file(other_key)
        out = manage(env, "backup", "--output", str(archive)).stdout
        assert "backup written" in out and archive.stat().st_mode & 0o077 == 0
        before = _digest(env)
        assert before["sealed_value_opens"] and len(before["media"]) == 24  # 12 cases × 1–3 photos
        assert before["tables"]["cases_case"][0] == 12

        # The operator copies the keys file from its own safe place; the archive does not hold it.
        fresh.mkdir()
        shutil.copy(site / "keys.json", fresh / "keys.json")
        target = child_env(fresh, target_url, GRASSROOTS_BACKUP_KEY_FILE=str(key_file))

        # Refused before anything is touched: a flipped byte, a cut-off archive, another key.
        data = archive.read_bytes()
        tampered, cut = tmp_path / "tampered.grbk", tmp_path / "cut.grbk"
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x01
        tampered.write_bytes(bytes(flipped))
        cut.write_bytes(data[: len(data) - 100])
        assert "damaged or altered" in _refused(target, tampered)
        assert "truncated" in _refused(target, cut)
        assert "wrong backup key" in _refused(target, archive, "--key-file", str(other_key))
        assert not (fresh / "media").exists()

        out = manage(target, "restore", str(archive)).stdout
        assert "restored the backup" in out and "cases_case" in out
        after = _digest(target)
        assert after == before  # every table's rows and every file, byte for byte; sealed values open
        manage(target, "verify_audit")

        # Now it holds data: replaced only with --force, and a bad archive never, even with it.
        assert "not empty" in _refused(target, archive)
        assert "damaged or altered" in _refused(target, tampered, "--force")
        assert _digest(target) == before
        # (restore itself fails unless every table's count matches the manifest afterwards)
        assert "restored the backup" in manage(target, "restore", str(archive), "--force").stdout
        assert list(fresh.glob("media.before-restore-*")), "the replaced media folder is kept aside"
