"""Writing to and checking the audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from grassroots.audit.models import AuditCheckpoint, AuditEntry
from grassroots.core import clock

GENESIS = "0" * 64
# Any constant: PostgreSQL advisory lock key that serialises appends to the chain.
_CHAIN_LOCK = 0x6772_6173  # "gras"


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log records it (a user, a command or the system)."""

    id: int | None
    label: str
    ip: str = ""


SYSTEM = Actor(id=None, label="system")


def actor_of(user: Any, ip: str = "") -> Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(id=None, label="anonymous", ip=ip)
    return Actor(id=user.pk, label=user.get_username(), ip=ip)


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    """The columns a row's hash covers, as they are hashed (also what an archive keeps)."""
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "area_path": entry.area_path,
        "ip": entry.ip,
        "detail": entry.detail,
    }


def _canonical(entry: AuditEntry) -> str:
    return json.dumps(
        hashed_fields(entry),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def compute_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + _canonical(entry)).encode()).hexdigest()


def _to_jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so the hash is computed over what the database returns.
    result: dict[str, Any] = json.loads(json.dumps(detail, ensure_ascii=False, default=str))
    return result


def _chain_head() -> tuple[int, str]:
    """The seq and hash the next entry links to: the newest row, else the latest checkpoint."""
    last = AuditEntry.objects.order_by("-seq").only("seq", "hash").first()
    if last is not None:
        return last.seq, last.hash
    # Every row was purged into an archive: the chain goes on from the checkpoint, never restarts.
    checkpoint = latest_checkpoint()
    if checkpoint is not None:
        return checkpoint.last_seq, checkpoint.last_hash
    return 0, GENESIS


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-last_seq").first()


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: object = "",
    area_path: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry; call it inside the transaction of the write it records."""
    when = (at or clock.now()).astimezone(UTC)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        # On SQLite the IMMEDIATE transaction already holds the single write lock.
        last_seq, last_hash = _chain_head()
        entry = AuditEntry(
            seq=last_seq + 1,
            at=when,
            actor_id=actor.id,
            actor_label=actor.label[:150],
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            area_path=area_path,
            ip=actor.ip[:45],
            detail=_to_jsonable(detail or {}),
            prev_hash=last_hash,
        )
        entry.hash = compute_hash(entry.prev_hash, entry)
        entry.save(force_insert=True)
    return entry


def audit_record_reads(
    *, actor: Actor, object_type: str, object_ids: Iterable[object], area_path: str = "", action: str = ""
) -> AuditEntry | None:
    """One entry for a page that showed several people's details."""
    ids = [str(i) for i in object_ids]
    if not ids:
        return None
    return audit_record(
        actor=actor,
        action=action or f"{object_type}.view",
        object_type=object_type,
        object_id=ids[0] if len(ids) == 1 else "",
        area_path=area_path,
        detail={"ids": ids} if len(ids) > 1 else {},
    )


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None  # seq of the first entry whose link fails
    reason: str = ""
    start_seq: int = 1  # the first live seq checked: after a retention purge, the checkpoint's last_seq + 1

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def _checkpoints_report() -> tuple[int, str, ChainReport | None]:
    """Where live verification starts, after checking that the checkpoints continue each other."""
    prev_seq, prev_hash = 0, GENESIS
    for checkpoint in AuditCheckpoint.objects.order_by("last_seq"):
        if checkpoint.first_seq != prev_seq + 1 or checkpoint.first_prev_hash != prev_hash:
            reason = f"checkpoint #{checkpoint.first_seq}-#{checkpoint.last_seq} does not continue the previous one"
            return prev_seq, prev_hash, ChainReport(0, checkpoint.first_seq, reason, prev_seq + 1)
        prev_seq, prev_hash = checkpoint.last_seq, checkpoint.last_hash
    return prev_seq, prev_hash, None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the live log in order from the latest checkpoint and report the first broken link.

    Rows before the checkpoint were archived by a retention purge; ``verify_archive`` checks
    those files, and the checkpoint's ``last_hash`` (checked against the row by the database
    when it was written) is where the live chain must continue.
    """
    last_seq, prev_hash, broken = _checkpoints_report()
    if broken is not None:
        return broken
    start = expected_seq = last_seq + 1
    checked = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        if not rows:
            return ChainReport(checked=checked, broken_at=None, start_seq=start)
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainReport(checked, expected_seq, f"entry #{expected_seq} is missing", start)
            if entry.prev_hash != prev_hash:
                return ChainReport(checked, entry.seq, "prev_hash does not match the previous entry", start)
            if compute_hash(prev_hash, entry) != entry.hash:
                return ChainReport(checked, entry.seq, "content does not match its hash", start)
            prev_hash = entry.hash
            expected_seq += 1
            checked += 1
            last_seq = entry.seq
