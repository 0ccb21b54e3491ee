"""Encrypted backups of the database and the uploaded files, and their restore.

An archive is a tar stream (``db/…``, ``media/…`` and ``manifest.json`` last) sealed in chunks
with AES-256-GCM under a dedicated backup key, never the personal-data keys: those live on the
server and may be lost with it, and a backup must not be readable by whoever copies it.

File layout (the "STREAM" construction, so a multi-GB archive never sits in memory and every
byte is authenticated before it is used)::

    header  = b"GRBACKUP" | format(1) | key fingerprint(8) | nonce prefix(7)
    frame*  = length(4, big-endian) | AES-GCM(nonce = prefix | counter(4) | last(1), aad = header)

The counter fixes the frames' order; the last flag is set on the final frame only, so a
truncated archive, reordered frames, a flipped byte or another key all fail authentication.

The database part is a consistent snapshot taken while the site runs: SQLite through its online
backup API; PostgreSQL through ``pg_dump -Fc`` on a snapshot exported from a REPEATABLE READ
transaction, which also counts the rows, so the manifest's counts are those of the dump.

The personal-data keys file is NOT in the archive (docs/operations.md, "Backup and restore").
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection, connections, transaction

MAGIC = b"GRBACKUP"
FORMAT = 1
HEADER_SIZE = len(MAGIC) + 1 + 8 + 7
CHUNK = 1 << 20  # plaintext bytes per frame
TAG = 16
SQLITE_FILE = "db/database.sqlite3"
PG_FILE = "db/database.pgdump"
MANIFEST = "manifest.json"
# A database is "in use" once someone has an account or anything was written (every write is
# audited). Rows that migrations seed (content types, default tags) do not count.
USE_MARKERS = ("accounts_user", "audit_auditentry")
MIGRATE_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})
_SAFE_PART = re.compile(r"^[^/\\\x00]+$")


class BackupError(Exception):
    """A refused or failed backup or restore; the message is English, for operators."""


# --- the key ---------------------------------------------------------------------------------


def generate_key_file(path: Path) -> str:
    """Write a new random backup key (base64, mode 600) to a file that must not exist yet."""
    key = AESGCM.generate_key(256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return fingerprint(key).hex()


def load_key(key_file: str | Path | None = None) -> bytes:
    """The backup key: ``key_file``, else GRASSROOTS_BACKUP_KEY (base64), else GRASSROOTS_BACKUP_KEY_FILE."""
    text, origin = "", ""
    from_env = str(getattr(settings, "BACKUP_KEY", None) or "")
    file = key_file or str(getattr(settings, "BACKUP_KEY_FILE", None) or "")
    if key_file is None and from_env:
        text, origin = from_env, "GRASSROOTS_BACKUP_KEY"
    elif file:
        try:
            text, origin = Path(file).read_text().strip(), str(file)
        except OSError as exc:
            raise BackupError(f"cannot read the backup key file {file}: {exc.strerror}") from None
    if not text:
        raise BackupError(
            "no backup key: set GRASSROOTS_BACKUP_KEY (base64 of 32 bytes) or GRASSROOTS_BACKUP_KEY_FILE, "
            "or pass --key-file; create one with `manage.py backup --generate-key FILE`"
        )
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BackupError(f"the backup key in {origin} is not base64 of 32 bytes")
    return key


def fingerprint(key: bytes) -> bytes:
    """8 bytes naming a key (in archive headers, to tell 'wrong key' from 'damaged')."""
    return hashlib.sha256(b"grassroots-backup-key\0" + key).digest()[:8]


# --- the sealed stream ------------------------------------------------------------------------


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


class SealingWriter(io.RawIOBase):
    """A write-only file object: buffers plaintext and writes sealed frames to ``out``."""

    def __init__(self, out: IO[bytes], key: bytes) -> None:
        super().__init__()
        self._out, self._aead = out, AESGCM(key)
        self._prefix = os.urandom(7)
        self.header = MAGIC + bytes([FORMAT]) + fingerprint(key) + self._prefix
        self._buffer = bytearray()
        self._counter = 0
        self._finished = False
        out.write(self.header)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep one frame back: the last frame must carry the flag
            self._frame(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _frame(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), plain, self.header)
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def finish(self) -> None:
        if not self._finished:
            self._frame(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._finished = True


class OpeningReader(io.RawIOBase):
    """A read-only file object over a sealed archive: each frame is authenticated before use."""

    def __init__(self, source: IO[bytes], key: bytes) -> None:
        super().__init__()
        header = source.read(HEADER_SIZE)
        if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
            raise BackupError("not a Grassroots backup archive")
        if header[len(MAGIC)] != FORMAT:
            raise BackupError(f"archive format {header[len(MAGIC)]} is not supported (this version reads {FORMAT})")
        if header[len(MAGIC) + 1 : len(MAGIC) + 9] != fingerprint(key):
            raise BackupError(
                "wrong backup key: the archive was sealed with key "
                f"{header[len(MAGIC) + 1 : len(MAGIC) + 9].hex()}, the key given is {fingerprint(key).hex()}"
            )
        self._source, self._aead, self.header = source, AESGCM(key), header
        self._prefix = header[-7:]
        self._counter = 0
        self._plain = b""
        self._offset = 0
        self.finished = False

    def readable(self) -> bool:
        return True

    def _next_frame(self) -> bool:
        if self.finished:
            return False
        size = self._source.read(4)
        if len(size) < 4:
            raise BackupError("archive truncated: its final part is missing")
        (length,) = struct.unpack(">I", size)
        sealed = self._source.read(length)
        if length < TAG or len(sealed) != length:
            raise BackupError("archive truncated or damaged")
        for last in (False, True):
            try:
                self._plain = self._aead.decrypt(_nonce(self._prefix, self._counter, last), sealed, self.header)
            except InvalidTag:
                continue
            self._offset, self._counter, self.finished = 0, self._counter + 1, last
            if last and self._source.read(1):
                raise BackupError("archive damaged: data after its final part")
            return True
        raise BackupError(f"archive damaged or altered: part {self._counter} fails authentication")

    def readinto(self, buffer: Any) -> int:
        while self._offset >= len(self._plain):
            if not self._next_frame():
                return 0
        n = min(len(buffer), len(self._plain) - self._offset)
        buffer[:n] = self._plain[self._offset : self._offset + n]
        self._offset += n
        return n

    def drain(self) -> None:
        """Read (and authenticate) to the final frame: tar stops at its end marker, the archive may not."""
        while self._next_frame():
            pass


class _Hashing(io.RawIOBase):
    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self._inner, self.sha, self.size = inner, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.sha.update(data)
        self.size += len(data)
        return len(data)


# --- the database -----------------------------------------------------------------------------


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [row[0] for row in cursor.fetchall()]


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = ANY(current_schemas(false)) ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 (names from the catalogue)
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _migrations(cursor: Any, tables: list[str]) -> dict[str, list[str]]:
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    state: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        state.setdefault(app, []).append(name)
    return state


def current_counts() -> dict[str, int]:
    """Rows per table of the default database now."""
    with connection.cursor() as cursor:
        tables = _sqlite_tables(cursor) if _engine() == "sqlite" else _pg_tables(cursor)
        return _counts(cursor, tables)


def _sqlite_path() -> Path:
    name = str(settings.DATABASES["default"]["NAME"])
    if name in ("", ":memory:") or name.startswith("file:"):
        raise BackupError(f"cannot back up the SQLite database {name!r}: not a file")
    return Path(name)


def _dump_sqlite(target: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    source = sqlite3.connect(_sqlite_path(), timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step (-1): a single read transaction, so the copy is one consistent moment; in WAL
        # mode readers never block the site's writers. Pages stream to the file, not to memory.
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        cursor = copy.cursor()
        tables = _sqlite_tables(cursor)
        return _counts(cursor, tables), _migrations(cursor, tables)
    finally:
        copy.close()
        source.close()


def _pg_env() -> dict[str, str]:
    db: dict[str, Any] = dict(settings.DATABASES["default"])
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    options = db.get("OPTIONS") or {}
    for var, key in (("PGSSLMODE", "sslmode"), ("PGSSLROOTCERT", "sslrootcert"), ("PGSERVICE", "service")):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _pg_tool(name: str) -> str:
    """The client program, refused if missing or older than the server (it could not read it)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client programs of the server's version "
            "(Debian: postgresql-client) and make sure it is on PATH"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    client = int(found.group(1)) if found else 0
    connection.ensure_connection()
    server = int(getattr(connection, "pg_version", 0)) // 10000
    if client < server:
        raise BackupError(
            f"{name} is version {client} but the server runs PostgreSQL {server}: "
            f"install the client programs of version {server} or newer"
        )
    return path


def _dump_postgres(target: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    pg_dump = _pg_tool("pg_dump")
    with transaction.atomic(), connection.cursor() as cursor:
        # Counts, migration state and dump all read one snapshot.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = _pg_tables(cursor)
        counts, state = _counts(cursor, tables), _migrations(cursor, tables)
        result = subprocess.run(  # noqa: S603
            [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", f"--file={target}"],
            env=_pg_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
    return counts, state


# --- backup -----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    tables: int
    rows: int
    media_files: int
    media_bytes: int
    seconds: float
    key_fingerprint: str


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _add(tar: tarfile.TarFile, name: str, handle: IO[bytes], size: int, mtime: float) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    hashing = _Hashing(handle)
    tar.addfile(info, hashing)
    return {"sha256": hashing.sha.hexdigest(), "size": hashing.size}


def backup(
    output: Path,
    *,
    key: bytes,
    media: bool = True,
    work_dir: Path | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> BackupResult:
    """Write an encrypted archive of the database and MEDIA_ROOT to ``output`` (atomically)."""
    started = time.monotonic()
    engine = _engine()
    output = output.resolve()
    if output.exists():
        raise BackupError(f"{output} exists already; backups are never overwritten")
    output.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".grassroots-backup-", dir=work_dir or output.parent))
    partial = output.with_name(output.name + ".partial")
    try:
        db_name = SQLITE_FILE if engine == "sqlite" else PG_FILE
        dump = stage / Path(db_name).name
        log(f"dumping the {engine} database")
        counts, state = _dump_sqlite(dump) if engine == "sqlite" else _dump_postgres(dump)
        files: dict[str, dict[str, Any]] = {}
        media_root = Path(settings.MEDIA_ROOT)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            writer = SealingWriter(out, key)
            with tarfile.open(mode="w|", fileobj=writer, format=tarfile.PAX_FORMAT) as tar:
                with dump.open("rb") as handle:
                    files[db_name] = _add(tar, db_name, handle, dump.stat().st_size, time.time())
                dump.unlink()
                if media:
                    log(f"adding the files under {media_root}")
                    for relative, path in _media_files(media_root):
                        try:
                            handle = path.open("rb")
                        except FileNotFoundError:
                            continue  # deleted since listed (a purged staged photo): not part of the backup
                        with handle:
                            stat = os.fstat(handle.fileno())
                            name = f"media/{relative}"
                            files[name] = _add(tar, name, handle, stat.st_size, stat.st_mtime)
                manifest = {
                    "format": FORMAT,
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "engine": engine,
                    "database_file": db_name,
                    "migrations": state,
                    "tables": counts,
                    "files": files,
                    "media": media,
                    "key_fingerprint": fingerprint(key).hex(),
                    "not_included": ["personal-data keys file (GRASSROOTS_KEYS_FILE)", "secret key", "settings"],
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                _add(tar, MANIFEST, io.BytesIO(data), len(data), time.time())
            writer.finish()
            out.flush()
            os.fsync(out.fileno())
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    media_files = [f for f in files if f.startswith("media/")]
    return BackupResult(
        path=output,
        size=output.stat().st_size,
        tables=len(counts),
        rows=sum(counts.values()),
        media_files=len(media_files),
        media_bytes=sum(files[f]["size"] for f in media_files),
        seconds=time.monotonic() - started,
        key_fingerprint=fingerprint(key).hex(),
    )


# --- restore ----------------------------------------------------------------------------------


@dataclass
class Opened:
    """An archive decrypted into a staging directory, every checksum verified."""

    stage: Path
    manifest: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.files[self.manifest["database_file"]]


def _member_path(stage: Path, name: str) -> Path:
    parts = PurePosixPath(name).parts
    allowed = name == MANIFEST or (len(parts) >= 2 and parts[0] in ("db", "media"))
    if not allowed or name.startswith("/") or any(p in ("", ".", "..") or not _SAFE_PART.match(p) for p in parts):
        raise BackupError(f"archive holds an unexpected entry {name!r}; refused")
    return stage.joinpath(*parts)


@contextmanager
def opened(archive: Path, *, key: bytes, work_dir: Path | None = None) -> Iterator[Opened]:
    """Decrypt ``archive`` into a staging directory and verify it whole; removed on exit."""
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    base = work_dir or Path(settings.MEDIA_ROOT).parent
    base.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".grassroots-restore-", dir=base))
    try:
        hashes: dict[str, dict[str, Any]] = {}
        files: dict[str, Path] = {}
        with archive.open("rb") as source:
            reader = OpeningReader(source, key)
            try:
                tar = tarfile.open(mode="r|", fileobj=reader)  # noqa: SIM115 (closed by the with below)
            except tarfile.TarError as exc:
                raise BackupError(f"archive content is not readable: {exc}") from None
            with tar:
                for member in tar:
                    if not member.isfile():
                        raise BackupError(f"archive holds a non-file entry {member.name!r}; refused")
                    if member.name in files:
                        raise BackupError(f"archive holds {member.name!r} twice; refused")
                    target = _member_path(stage, member.name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    sha, size = hashlib.sha256(), 0
                    with target.open("wb") as out:
                        while chunk := extracted.read(CHUNK):
                            sha.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
                    files[member.name] = target
                    hashes[member.name] = {"sha256": sha.hexdigest(), "size": size}
            reader.drain()
        if MANIFEST not in files:
            raise BackupError("archive has no manifest; refused")
        manifest = json.loads(files.pop(MANIFEST).read_text())
        hashes.pop(MANIFEST)
        listed = manifest.get("files", {})
        if set(listed) != set(hashes):
            raise BackupError("archive content does not match its manifest (files missing or extra); refused")
        for name, expected in listed.items():
            if hashes[name] != expected:
                raise BackupError(f"checksum mismatch for {name}; refused")
        if manifest.get("database_file") not in files:
            raise BackupError("archive has no database; refused")
        yield Opened(stage=stage, manifest=manifest, files=files)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def holds_data() -> list[str]:
    """The tables that show the default database is in use (empty: safe to restore into)."""
    counts = current_counts()
    if any(t in counts for t in USE_MARKERS):
        return [t for t in USE_MARKERS if counts.get(t)]
    return [t for t, n in counts.items() if n and t not in MIGRATE_TABLES]  # not this application's schema


def _media_in_use(root: Path) -> bool:
    return root.is_dir() and any(root.iterdir())


@dataclass
class RestoreResult:
    counts: dict[str, int]
    media_files: int
    media_moved_to: Path | None
    created_at: str
    migrations_ahead: list[str]  # migrations this code has that the archive's database lacks


def _restore_sqlite(staged: Path) -> None:
    target = _sqlite_path()
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(staged)
    dest = sqlite3.connect(target, timeout=30)
    try:
        # The backup API replaces every page of the target in one write transaction: a reader
        # sees the old database or the restored one.
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def _restore_postgres(staged: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    connections.close_all()
    result = subprocess.run(  # noqa: S603
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",  # all or nothing: a failed restore leaves the database as it was
            f"--dbname={settings.DATABASES['default']['NAME']}",
            str(staged),
        ],
        env=_pg_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _known_migrations() -> set[str]:
    from django.db.migrations.loader import MigrationLoader

    return {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}


def restore(
    archive: Path,
    *,
    key: bytes,
    force: bool = False,
    work_dir: Path | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> RestoreResult:
    """Verify ``archive`` whole, then restore the database and the media folder from it."""
    engine = _engine()
    media_root = Path(settings.MEDIA_ROOT)
    with opened(archive, key=key, work_dir=work_dir or media_root.parent) as arc:
        manifest = arc.manifest
        log(f"archive verified: made {manifest['created_at']}, {len(manifest['files'])} files")
        if manifest["engine"] != engine:
            raise BackupError(f"the archive holds a {manifest['engine']} database; this site runs {engine}")
        in_use = holds_data()
        if in_use and not force:
            raise BackupError(
                f"the database is not empty ({len(in_use)} tables hold rows, e.g. {', '.join(in_use[:3])}); "
                "restore into an empty database, or pass --force to replace it"
            )
        if manifest.get("media") and _media_in_use(media_root) and not force:
            raise BackupError(f"{media_root} is not empty; pass --force to replace it (the old folder is kept aside)")
        archived = {f"{app}.{name}" for app, names in manifest["migrations"].items() for name in names}
        log("restoring the database")
        if engine == "sqlite":
            _restore_sqlite(arc.database)
        else:
            _restore_postgres(arc.database)
        moved_to = None
        media_files = [name for name in arc.files if name.startswith("media/")]
        if manifest.get("media"):
            log(f"restoring {len(media_files)} files into {media_root}")
            new_media = arc.stage / "media"
            new_media.mkdir(exist_ok=True)
            if media_root.exists():
                if _media_in_use(media_root):
                    moved_to = media_root.with_name(
                        f"{media_root.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}"
                    )
                    media_root.rename(moved_to)
                else:
                    media_root.rmdir()
            media_root.parent.mkdir(parents=True, exist_ok=True)
            new_media.rename(media_root)  # the stage sits beside MEDIA_ROOT: one rename, same file system
        counts = current_counts()
        differ = sorted(t for t, n in manifest["tables"].items() if counts.get(t) != n)
        if differ:
            raise BackupError(f"row counts after restore differ from the manifest in: {', '.join(differ[:10])}")
        return RestoreResult(
            counts=counts,
            media_files=len(media_files),
            media_moved_to=moved_to,
            created_at=manifest["created_at"],
            migrations_ahead=sorted(_known_migrations() - archived),
        )


def verify(archive: Path, *, key: bytes, work_dir: Path | None = None) -> dict[str, Any]:
    """Decrypt and check ``archive`` without touching the database or the media folder."""
    with opened(archive, key=key, work_dir=work_dir or Path(tempfile.gettempdir())) as arc:
        return arc.manifest
