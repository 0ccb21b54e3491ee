"""The sealed stream of backup archives: round trip, and every kind of damage refused."""

from __future__ import annotations

import io
import os
import struct

import pytest

from grassroots.core import backup
from grassroots.core.backup import CHUNK, HEADER_SIZE, BackupError, OpeningReader, SealingWriter

KEY = bytes(range(32))


def seal(data: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    writer = SealingWriter(out, key)
    for start in range(0, len(data), 70_000):  # writes of any size, across frame boundaries
        writer.write(data[start : start + 70_000])
    writer.finish()
    return out.getvalue()


def open_all(sealed: bytes, key: bytes = KEY) -> bytes:
    reader = OpeningReader(io.BytesIO(sealed), key)
    data = reader.read()
    reader.drain()
    return data


def frames(sealed: bytes) -> list[bytes]:
    found, offset = [], HEADER_SIZE
    while offset < len(sealed):
        (length,) = struct.unpack(">I", sealed[offset : offset + 4])
        found.append(sealed[offset : offset + 4 + length])
        offset += 4 + length
    return found


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_round_trip(size):
    data = os.urandom(size)
    sealed = seal(data)
    assert open_all(sealed) == data
    assert size < 32 or data[:32] not in sealed


def test_damage_of_every_kind_is_refused():
    sealed = seal(os.urandom(2 * CHUNK + 5))
    header, parts = sealed[:HEADER_SIZE], frames(sealed)
    assert len(parts) == 3
    flipped = bytearray(sealed)
    flipped[HEADER_SIZE + 100] ^= 0x80
    with pytest.raises(BackupError, match="damaged or altered"):
        open_all(bytes(flipped))
    with pytest.raises(BackupError, match="damaged or altered"):  # frames swapped
        open_all(header + parts[1] + parts[0] + parts[2])
    with pytest.raises(BackupError, match="truncated"):  # the final frame dropped
        open_all(header + parts[0] + parts[1])
    with pytest.raises(BackupError, match="damaged or altered"):  # a middle frame dropped
        open_all(header + parts[0] + parts[2])
    with pytest.raises(BackupError, match="after its final part"):
        open_all(sealed + parts[2])
    with pytest.raises(BackupError, match="wrong backup key"):
        open_all(sealed, key=bytes(32))
    with pytest.raises(BackupError, match="not a Grassroots backup"):
        open_all(b"PK\x03\x04" + sealed[4:])


def test_key_from_the_environment_and_files(settings, tmp_path):
    settings.BACKUP_KEY, settings.BACKUP_KEY_FILE = "", ""
    with pytest.raises(BackupError, match="no backup key"):
        backup.load_key()
    path = tmp_path / "k"
    print_ = backup.generate_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    key = backup.load_key(path)
    assert backup.fingerprint(key).hex() == print_
    with pytest.raises(FileExistsError):
        backup.generate_key_file(path)
    settings.BACKUP_KEY = "c2hvcnQ="
    with pytest.raises(BackupError, match="not base64 of 32 bytes"):
        backup.load_key()
