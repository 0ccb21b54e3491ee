"""``manage.py rotate_keys``: rotate the data key that seals personal data, without downtime.

Every ciphertext names the data key that sealed it, so a process reads values under any
key its keys file holds and seals new values under the file's ``current`` key. Each
process loads the keys file once (``crypto.keyring()`` is cached) and sees a changed file
only after a restart. Hence the operational order on a running site:

1. ``rotate_keys --new-key --stage``: adds key kN, not yet current. Copy the keys file to
   every machine and restart every web and worker process (in any order: nothing is sealed
   with kN yet, and everyone now reads it).
2. ``rotate_keys --activate kN --no-reencrypt``: kN becomes current. Copy the file and
   restart everything again (rolling restart is safe: every process already reads kN).
3. ``rotate_keys``: re-seals every value still under an older key, 1,000 rows per
   transaction, while the site runs. Interrupt it at will and run it again: rows already
   under the current key are skipped. ``--max-batches`` / ``--pause`` spread the load.
4. ``rotate_keys --status`` shows 0 values under the old key (after every process runs
   with the file of step 2) → ``rotate_keys --retire kOld``; copy the file everywhere.

On one machine where a short restart is acceptable, ``--new-key --no-reencrypt``, restart
all processes, then ``rotate_keys``. ``--new-key`` alone (add, make current, re-seal at
once) is only for a site whose other processes are stopped: a process started with the old
file cannot read values sealed under a key it has never loaded.

The index key (keyed hashes for exact search) never changes here. Back up the keys file
after every change: values sealed under a key that exists only in a lost file are lost.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from grassroots.accounts.models import TwoFactor, User
from grassroots.accounts.sms import PHONE_CONTEXT as USER_PHONE_CONTEXT
from grassroots.accounts.two_factor import SECRET_CONTEXT as TOTP_SECRET_CONTEXT
from grassroots.audit.services import Actor, audit_record
from grassroots.core import crypto
from grassroots.notify.models import Notification
from grassroots.notify.services import ADDRESS_CONTEXT as NOTIFY_ADDRESS_CONTEXT
from grassroots.registry import subject_request_models as sr
from grassroots.registry.imports.pipeline import RAW_CONTEXT as SOURCE_RECORD_CONTEXT
from grassroots.registry.models import Person, SourceRecord, Unit
from grassroots.registry.services import ID_CONTEXT, PHONE_CONTEXT, UNIT_PHONE_CONTEXT

ACTOR = Actor(id=None, label="manage.py rotate_keys")
MAX_BATCH_SIZE = 100_000
PROGRESS_EVERY_S = 10.0


@dataclass(frozen=True)
class SealedTable:
    model: type[models.Model]
    columns: tuple[tuple[str, str], ...]  # (field name, encryption context)


# Every encrypted column and its context. A new one must be added here, or rotation skips it
# (``--retire`` still counts every BinaryField of every model, so it never drops a key in use).
SEALED_TABLES = (
    SealedTable(Person, (("id_number_cipher", ID_CONTEXT), ("phone_cipher", PHONE_CONTEXT))),
    SealedTable(SourceRecord, (("raw_cipher", SOURCE_RECORD_CONTEXT),)),
    SealedTable(Unit, (("contact_phone_cipher", UNIT_PHONE_CONTEXT),)),
    SealedTable(Notification, (("address_cipher", NOTIFY_ADDRESS_CONTEXT),)),
    SealedTable(TwoFactor, (("secret_cipher", TOTP_SECRET_CONTEXT),)),
    SealedTable(User, (("phone_cipher", USER_PHONE_CONTEXT),)),
    SealedTable(
        sr.SubjectRequest,
        (
            ("name_cipher", sr.NAME_CONTEXT),
            ("id_number_cipher", sr.ID_CONTEXT),
            ("details_cipher", sr.DETAILS_CONTEXT),
            ("answer_cipher", sr.ANSWER_CONTEXT),
            ("copy_cipher", sr.COPY_CONTEXT),
        ),
    ),
)


@dataclass
class TableResult:
    pending: int = 0  # rows with at least one value under another key, counted at the start
    rows: int = 0  # rows rewritten
    values: int = 0  # values sealed again (including those of rows then changed concurrently)
    changed_concurrently: int = 0  # rows edited between read and write: left for the next run
    failed_ids: list[int] = field(default_factory=list)  # values that did not decrypt


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model: type[models.Model], name: str) -> str:
    f = model._meta.get_field(name)
    assert isinstance(f, models.Field) and f.column
    return _q(f.column)


def _under_other_key(column: str, prefix_len: int) -> str:
    # substr/length work on bytes for SQLite BLOB and PostgreSQL bytea alike.
    return f"(length({column}) > 0 AND substr({column}, 1, {prefix_len}) <> %s)"


def _count_sealed_with(model: type[models.Model], column: str, kid: str) -> int:
    prefix = crypto.key_prefix(kid)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {_q(model._meta.db_table)} "  # noqa: S608 (quoted names; values are parameters)
            f"WHERE length({column}) > 0 AND substr({column}, 1, {len(prefix)}) = %s",
            [prefix],
        )
        return int(cursor.fetchone()[0])


def _binary_columns() -> list[tuple[type[models.Model], str]]:
    """Every BinaryField of every installed model: whatever might hold a sealed value."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.BinaryField):
                found.append((model, f.column))
    return found


class Command(BaseCommand):
    help = (
        "轮换加密个人信息的数据密钥：添加新密钥、设为当前密钥、分批重新加密、退役旧密钥。"
        " Each process reads the keys file once at start: deploy a new key to every process"
        " (--new-key --stage, restart; --activate KEY --no-reencrypt, restart) before"
        " re-encrypting; see the module docstring for the full order."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_argument_group("what to do (default: re-encrypt what is under an old key)")
        action.add_argument("--new-key", action="store_true", help="add a new 32-byte data key and make it current")
        action.add_argument(
            "--stage", action="store_true", help="with --new-key: add the key without making it current"
        )
        action.add_argument("--activate", metavar="KEY_ID", help="make an existing data key current")
        action.add_argument("--retire", metavar="KEY_ID", help="remove a data key no value is sealed with any more")
        action.add_argument("--status", action="store_true", help="count sealed values per key; change nothing")
        parser.add_argument(
            "--no-reencrypt", action="store_true", help="with --new-key/--activate: change the keys file only"
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="rows per transaction (default 1000)")
        parser.add_argument("--max-batches", type=int, help="stop after this many batches (run again to resume)")
        parser.add_argument("--pause", type=float, default=0.0, help="seconds to sleep between batches")

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options.get("verbosity", 1))
        self._check_options(options)
        if settings.KEYS_JSON:
            raise CommandError(
                "密钥来自环境变量 GRASSROOTS_KEYS_JSON，无法在此改写：请改用密钥文件（GRASSROOTS_KEYS_FILE）进行轮换。",
                returncode=2,
            )
        path = Path(settings.KEYS_FILE)
        try:
            ring = crypto.read_keyring(path)
        except (ImproperlyConfigured, ValueError, KeyError) as exc:
            raise CommandError(f"无法读取密钥文件 {path}：{exc}", returncode=2) from exc

        if options["status"]:
            self._status(ring)
            return
        if options["retire"]:
            self._retire(path, ring, options["retire"])
            return

        detail: dict[str, Any] = {"previous_current": ring.current}
        if options["activate"] and options["activate"] not in ring.data_keys:
            raise CommandError(
                f"密钥文件中没有数据密钥“{options['activate']}”（现有：{', '.join(sorted(ring.data_keys))}）。",
                returncode=2,
            )
        if options["new_key"]:
            ring, kid = crypto.add_data_key(path, make_current=not options["stage"])
            detail["added"] = kid
            if options["stage"]:
                self.stdout.write(
                    f"staged data key {kid} (current stays {ring.current}). Back up {path}, copy it to every "
                    f"machine, restart every process, then run: rotate_keys --activate {kid} --no-reencrypt"
                )
            else:
                self.stdout.write(f"added data key {kid} as current. Back up {path} now.")
        elif options["activate"]:
            ring = crypto.set_current_key(path, options["activate"])
            detail["activated"] = ring.current
            self.stdout.write(f"data key {ring.current} is now current. Back up {path}.")
        crypto.keyring.cache_clear()  # this process must seal with the file as it is now
        detail["current"] = ring.current

        if options["stage"] or options["no_reencrypt"]:
            audit_record(actor=ACTOR, action="crypto.keys.change", object_type="keyring", detail=detail)
            return
        self._reencrypt(ring, detail, options)

    def _check_options(self, options: dict[str, Any]) -> None:
        def bad(message: str) -> CommandError:
            return CommandError(message, returncode=2)

        if options["stage"] and not options["new_key"]:
            raise bad("--stage 只能与 --new-key 一起使用。")
        if options["new_key"] and options["activate"]:
            raise bad("--new-key 与 --activate 不能同时使用（新密钥已由 --new-key 设为当前密钥）。")
        exclusive = [o for o in ("retire", "status") if options[o]]
        others = [o for o in ("new_key", "activate", "no_reencrypt", "max_batches") if options[o]]
        if len(exclusive) > 1 or (exclusive and others):
            names = ", ".join(f"--{o.replace('_', '-')}" for o in exclusive + others)
            raise bad(f"这些选项不能同时使用：{names}。")
        if options["no_reencrypt"] and not (options["new_key"] or options["activate"]):
            raise bad("--no-reencrypt 只能与 --new-key 或 --activate 一起使用（否则什么也不做）。")
        if not 1 <= options["batch_size"] <= MAX_BATCH_SIZE:
            raise bad(f"--batch-size 必须在 1 到 {MAX_BATCH_SIZE} 之间，收到 {options['batch_size']}。")
        if options["max_batches"] is not None and options["max_batches"] < 1:
            raise bad(f"--max-batches 必须至少为 1，收到 {options['max_batches']}。")
        if options["pause"] < 0:
            raise bad(f"--pause 不能为负数，收到 {options['pause']}。")
        for kid in (options["activate"], options["retire"]):
            if kid is not None and not 0 < len(kid.encode()) < 256:
                raise bad("密钥编号的长度必须在 1 到 255 字节之间。")

    # --- status and retire ---------------------------------------------------------------

    def _status(self, ring: crypto.Keyring) -> None:
        self.stdout.write(f"current data key: {ring.current}; keys in file: {', '.join(sorted(ring.data_keys))}")
        for table in SEALED_TABLES:
            for name, _ in table.columns:
                column = _column(table.model, name)
                counts = {kid: _count_sealed_with(table.model, column, kid) for kid in sorted(ring.data_keys)}
                line = ", ".join(f"{kid}: {n:,}" for kid, n in counts.items())
                self.stdout.write(f"{table.model._meta.db_table}.{name}: {line}")

    def _retire(self, path: Path, ring: crypto.Keyring, kid: str) -> None:
        if kid not in ring.data_keys:
            raise CommandError(
                f"密钥文件中没有数据密钥“{kid}”（现有：{', '.join(sorted(ring.data_keys))}）。", returncode=2
            )
        if kid == ring.current:
            raise CommandError(f"“{kid}”是当前密钥，不能退役；请先轮换到新密钥。", returncode=2)
        in_use = {}
        for model, column in _binary_columns():
            n = _count_sealed_with(model, _q(column), kid)
            if n:
                in_use[f"{model._meta.db_table}.{column}"] = n
        if in_use:
            where = "，".join(f"{name} {n:,} 条" for name, n in in_use.items())
            raise CommandError(
                f"仍有 {sum(in_use.values()):,} 个值使用数据密钥“{kid}”（{where}），不能退役；"
                "请先运行 rotate_keys 完成重新加密。",
                returncode=2,
            )
        crypto.retire_data_key(path, kid)
        crypto.keyring.cache_clear()
        audit_record(
            actor=ACTOR,
            action="crypto.keys.retire",
            object_type="keyring",
            object_id=kid,
            detail={"retired": kid, "current": ring.current},
        )
        self.stdout.write(f"retired data key {kid}. Copy {path} to every machine and back it up.")

    # --- re-encryption -------------------------------------------------------------------

    def _reencrypt(self, ring: crypto.Keyring, detail: dict[str, Any], options: dict[str, Any]) -> None:
        if crypto.keyring().current != ring.current:  # another run changed the file meanwhile
            raise CommandError("密钥文件在运行期间被修改，请重新运行 rotate_keys。", returncode=1)
        budget: int | None = options["max_batches"]
        results: dict[str, TableResult] = {}
        complete = True
        try:
            for table in SEALED_TABLES:
                result = TableResult()
                results[table.model._meta.db_table] = result
                budget, done = self._reencrypt_table(table, ring.current, result, options, budget)
                if not done:
                    complete = False
                    break
        except BaseException as exc:
            detail["error"] = type(exc).__name__
            complete = False
            raise
        finally:
            detail["complete"] = complete
            detail["tables"] = {
                name: {
                    "pending": r.pending,
                    "rows": r.rows,
                    "values": r.values,
                    "changed_concurrently": r.changed_concurrently,
                    "failed": len(r.failed_ids),
                    "failed_ids": r.failed_ids[:50],  # row ids only, never values
                }
                for name, r in results.items()
            }
            audit_record(actor=ACTOR, action="crypto.keys.reencrypt", object_type="keyring", detail=detail)
        failed = sum(len(r.failed_ids) for r in results.values())
        if not complete:
            self.stdout.write("stopped after --max-batches; run rotate_keys again to continue.")
        elif failed:
            ids = "; ".join(f"{name}: {r.failed_ids[:10]}" for name, r in results.items() if r.failed_ids)
            raise CommandError(f"{failed} 个值无法解密，未能重新加密（行号 {ids}）；其余已完成。", returncode=1)
        else:
            self.stdout.write(f"done: every sealed value is under data key {ring.current}.")

    def _reencrypt_table(
        self,
        table: SealedTable,
        current: str,
        result: TableResult,
        options: dict[str, Any],
        budget: int | None,
    ) -> tuple[int | None, bool]:
        """Re-seal one table in primary-key order; returns the batch budget left and whether it finished."""
        model = table.model
        name = model._meta.db_table
        prefix = crypto.key_prefix(current)
        pk = _q(model._meta.pk.column)
        columns = [_column(model, f) for f, _ in table.columns]
        contexts = [context for _, context in table.columns]
        stale = " OR ".join(_under_other_key(c, len(prefix)) for c in columns)
        stale_params = [prefix] * len(columns)
        # Keyset pagination (pk > last), never OFFSET: each batch starts where the last ended.
        select = (
            f"SELECT {pk}, {', '.join(columns)} FROM {_q(name)} "  # noqa: S608 (quoted names; values are parameters)
            f"WHERE {pk} > %s AND ({stale}) ORDER BY {pk} LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {_q(name)} WHERE {stale}", stale_params)  # noqa: S608
            result.pending = int(cursor.fetchone()[0])
        self.stdout.write(f"{name}: {result.pending:,} rows with values under another key than {current}")
        last_id = 0
        last_report = time.monotonic()
        while result.pending:
            if budget is not None and budget <= 0:
                return budget, False
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(select, [last_id, *stale_params, options["batch_size"]])
                rows = cursor.fetchall()
                if not rows:
                    break
                # Rows grouped by which columns change, so each group is one executemany.
                groups: dict[tuple[int, ...], list[list[Any]]] = defaultdict(list)
                for row in rows:
                    row_id, blobs = row[0], row[1:]
                    changed: list[tuple[int, bytes, bytes]] = []
                    for i, blob in enumerate(blobs):
                        if not blob:
                            continue
                        old = bytes(blob)
                        try:
                            new = crypto.reencrypt(old, context=contexts[i])
                        except (ValueError, InvalidTag):
                            result.failed_ids.append(row_id)
                            continue
                        if new is not None:
                            changed.append((i, old, new))
                    if changed:
                        shape = tuple(i for i, _, _ in changed)
                        groups[shape].append([*(n for _, _, n in changed), row_id, *(o for _, o, _ in changed)])
                        result.values += len(changed)
                for shape, params in groups.items():
                    sets = ", ".join(f"{columns[i]} = %s" for i in shape)
                    # Compare-and-set: a row edited since it was read keeps the edit (sealed by the site).
                    same = " AND ".join(f"{columns[i]} = %s" for i in shape)
                    cursor.executemany(
                        f"UPDATE {_q(name)} SET {sets} WHERE {pk} = %s AND {same}",  # noqa: S608
                        params,
                    )
                    result.rows += cursor.rowcount
                    result.changed_concurrently += len(params) - cursor.rowcount
                last_id = rows[-1][0]
            if budget is not None:
                budget -= 1
            now = time.monotonic()
            if self.verbosity >= 2 or now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                done = f"{result.rows:,}/{result.pending:,}"
                self.stdout.write(f"  {name}: {done} rows re-encrypted (up to id {last_id})")
            if len(rows) < options["batch_size"]:
                break
            if options["pause"]:
                time.sleep(options["pause"])
        self.stdout.write(
            f"{name}: {result.rows:,} rows ({result.values:,} values) re-encrypted under {current}; "
            f"{result.changed_concurrently:,} changed meanwhile, {len(result.failed_ids):,} failed"
        )
        return budget, True
