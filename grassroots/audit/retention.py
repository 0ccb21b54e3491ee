"""Audit retention: how long each kind of entry is kept, and the purge that archives what is past it.

PIPL and 等保 level 3 set minimums: access logs (who viewed, searched, unmasked, signed in)
at least 180 days; processing (changes) and export records at least 3 years. Each action
name maps to one retention class in ``ACTION_CLASSES``; an action not listed there is kept
for the longest period configured, so forgetting to classify a new action never loses it early.

The log is one hash chain, and entries of different classes interleave in it. A purge
therefore removes only a *prefix* of the chain: the rows up to the first one still inside
its own retention. It writes them to a gzip JSON-lines archive with a manifest, records an
``AuditCheckpoint`` (the database checks it against the live chain) and deletes in the same
transaction as the checkpoint; the database allows DELETE only up to the latest checkpoint.
A crash anywhere before that commit leaves every row in place, and the next run writes the
same archive again (byte for byte: the gzip header carries no time) and finishes the job.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from grassroots.audit.models import AuditCheckpoint, AuditEntry
from grassroots.audit.services import (
    _CHAIN_LOCK,
    GENESIS,
    SYSTEM,
    Actor,
    audit_record,
    compute_hash,
    hashed_fields,
    latest_checkpoint,
)
from grassroots.core import clock


class RetentionClass(StrEnum):
    access = "access"  # viewing, searching, unmasking, opening pages, signing in
    processing = "processing"  # creating, changing, deciding
    export = "export"  # exports and downloads of personal data


# The legal floors (days); settings may lengthen but never shorten them.
MINIMUM_DAYS: dict[RetentionClass, int] = {
    RetentionClass.access: 180,
    RetentionClass.processing: 1095,
    RetentionClass.export: 1095,
}

_A, _P, _E = RetentionClass.access, RetentionClass.processing, RetentionClass.export

# Every audit action and its retention class: the one table. Names ending in ".*" cover a
# family whose last part is computed (case workflow actions, topic steps, mobilisation answers);
# an exact name wins over a family, and a family may never put an action in the access class
# (an unlisted read must not be purged early by accident). Unlisted: the longest class.
ACTION_CLASSES: dict[str, RetentionClass] = {
    # --- access: reads of personal data and sign-in events ---
    "auth.login": _A,
    "auth.logout": _A,
    "auth.login_failed": _A,
    "auth.locked_out": _A,
    "auth.sms_code": _A,
    "accounts.2fa.failed": _A,
    "accounts.2fa.recovery_used": _A,
    "accounts.password.change_failed": _A,
    "registry.person.view": _A,
    "registry.person.search": _A,
    "registry.person.unmask": _A,
    "registry.person.batch_query": _A,
    "registry.linkage.view": _A,
    "registry.subject_request.view": _A,
    "party.member.view": _A,
    "party.member.list": _A,
    "party.checkin.list": _A,
    "party.service_record.list": _A,
    "party.unit_report.view": _A,
    "estates.committee.members.view": _A,
    "estates.zone.heads.view": _A,
    # --- export: files of personal data leaving the system ---
    "registry.person.export": _E,
    "registry.person.export_plain": _E,
    "registry.import.rejected_download": _E,
    "registry.subject_request.copy_export": _E,
    "registry.subject_request.copy_download": _E,
    "party.unit_report.export": _E,
    "insights.report.export": _E,
    # --- processing: everything that changes something ---
    "accounts.2fa.disable": _P,
    "accounts.2fa.enable": _P,
    "accounts.2fa.reset": _P,
    "accounts.department.create": _P,
    "accounts.grid_role.assign": _P,
    "accounts.grid_role.end": _P,
    "accounts.password.change": _P,
    "accounts.password.reset": _P,
    "accounts.token.create": _P,
    "accounts.token.revoke": _P,
    "accounts.user.create": _P,
    "accounts.user.deactivate": _P,
    "accounts.user.phone_set": _P,
    "accounts.worker.set": _P,
    "audit.purge": _P,
    "crypto.keys.change": _P,
    "crypto.keys.reencrypt": _P,
    "crypto.keys.retire": _P,
    "demo.generate": _P,
    "cases.*": _P,  # cases.submit, cases.<workflow action>, duty lists, calendar, hotline, routing, sweep
    "engage.*": _P,  # topics (engage.topic.<step>), meetings, notices, guides, centres, admission
    "estates.*": _P,  # committees, companies, contracts, surveys, fees, reports, zones (views listed above)
    "insights.*": _P,  # assessments, hotspots, plans, rollups (report export listed above)
    "notify.*": _P,
    "places.*": _P,
    "volunteers.*": _P,  # volunteers.mobilisation.<answer> among them
    "party.*": _P,  # organisations, members, seats, pairings, alliances, check-ins, service records
    "registry.address.choose": _P,
    "registry.address.outside": _P,
    "registry.import.create": _P,
    "registry.import.fail": _P,
    "registry.import.finish": _P,
    "registry.import.queue": _P,
    "registry.import.retry": _P,
    "registry.import.run": _P,
    "registry.linkage.decide": _P,
    "registry.linkage.merge": _P,
    "registry.linkage.run": _P,
    "registry.linkage.split": _P,
    "registry.person.create": _P,
    "registry.person.update": _P,
    "registry.quality_snapshot": _P,
    "registry.residents.follow_building": _P,
    "registry.subject_request.*": _P,  # submit, start, answer, refuse
    "registry.tag.create": _P,
    "registry.unit.create": _P,
    "registry.visit.record": _P,
}


class RetentionConfigError(ValueError):
    """``GRASSROOTS_AUDIT_RETENTION_DAYS`` is malformed or below a legal minimum (English, for operators)."""


def retention_days(configured: Mapping[str, Any] | None = None) -> dict[RetentionClass, int]:
    """Days to keep each class: the setting over the minimums; refuses anything shorter."""
    if configured is None:
        configured = getattr(settings, "GRASSROOTS_AUDIT_RETENTION_DAYS", None) or {}
    unknown = set(configured) - {c.value for c in RetentionClass}
    if unknown:
        raise RetentionConfigError(f"GRASSROOTS_AUDIT_RETENTION_DAYS: unknown class(es) {sorted(unknown)}")
    days = dict(MINIMUM_DAYS)
    for name, value in configured.items():
        klass = RetentionClass(name)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise RetentionConfigError(f"GRASSROOTS_AUDIT_RETENTION_DAYS[{name}]: not a number: {value!r}") from None
        if number < MINIMUM_DAYS[klass]:
            raise RetentionConfigError(
                f"GRASSROOTS_AUDIT_RETENTION_DAYS[{name}] = {number} is below the legal minimum "
                f"of {MINIMUM_DAYS[klass]} days"
            )
        days[klass] = number
    return days


def classify(action: str, days: Mapping[RetentionClass, int] | None = None) -> RetentionClass:
    """The retention class of an action name (see ``ACTION_CLASSES``)."""
    if action in ACTION_CLASSES:
        return ACTION_CLASSES[action]
    parts = action.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        family = ACTION_CLASSES.get(".".join(parts[:cut]) + ".*")
        if family is not None and family is not RetentionClass.access:
            return family
    days = days or MINIMUM_DAYS
    return max(RetentionClass, key=lambda c: (days[c], c is not RetentionClass.access))


# --- the archive ---------------------------------------------------------------------------


def archive_dir() -> Path:
    return Path(getattr(settings, "GRASSROOTS_AUDIT_ARCHIVE_DIR", "") or settings.VAR_DIR / "audit-archive")


def archive_name(first_seq: int, last_seq: int) -> str:
    return f"audit-{first_seq:012d}-{last_seq:012d}.jsonl.gz"


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name.removesuffix(".jsonl.gz") + ".manifest.json")


def row_dict(entry: AuditEntry) -> dict[str, Any]:
    """One archived row: every column the hash covers, plus both hashes."""
    return {**hashed_fields(entry), "prev_hash": entry.prev_hash, "hash": entry.hash}


def entry_from_row(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        at=datetime.fromisoformat(row["at"]),
        actor_id=row["actor_id"],
        actor_label=row["actor_label"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        area_path=row["area_path"],
        ip=row["ip"],
        detail=row["detail"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as raw:
        write(raw)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)


@dataclass
class ArchiveCheck:
    ok: bool
    count: int = 0
    reason: str = ""


def read_archive(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def verify_archive(path: Path, *, expected_sha256: str | None = None) -> ArchiveCheck:
    """Check an archive against its manifest: checksum, count, seq range and the hash chain inside it."""
    manifest_file = manifest_path(path)
    if not path.exists() or not manifest_file.exists():
        return ArchiveCheck(False, reason=f"{path.name}: archive or manifest missing")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    sha = _sha256(path)
    if sha != manifest["sha256"] or (expected_sha256 is not None and sha != expected_sha256):
        return ArchiveCheck(False, reason=f"{path.name}: SHA-256 does not match")
    prev_hash, expected_seq, count = manifest["first_prev_hash"], manifest["first_seq"], 0
    for row in read_archive(path):
        entry = entry_from_row(row)
        if entry.seq != expected_seq or entry.prev_hash != prev_hash or compute_hash(prev_hash, entry) != entry.hash:
            return ArchiveCheck(False, count, f"{path.name}: chain broken at entry #{entry.seq}")
        prev_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    if count != manifest["count"] or expected_seq - 1 != manifest["last_seq"] or prev_hash != manifest["last_hash"]:
        return ArchiveCheck(False, count, f"{path.name}: rows do not match the manifest")
    return ArchiveCheck(True, count)


def verify_archives() -> list[tuple[AuditCheckpoint, ArchiveCheck]]:
    """Every checkpoint's archive file, checked against the checkpoint."""
    results = []
    for checkpoint in AuditCheckpoint.objects.order_by("last_seq"):
        path = archive_dir() / checkpoint.archive_name
        check = verify_archive(path, expected_sha256=checkpoint.archive_sha256)
        if check.ok:
            manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
            linked = (manifest["first_prev_hash"], manifest["last_hash"])
            if linked != (checkpoint.first_prev_hash, checkpoint.last_hash):
                check = ArchiveCheck(False, check.count, f"{path.name}: does not match its checkpoint")
        results.append((checkpoint, check))
    return results


# --- the purge -------------------------------------------------------------------------------


class PurgeError(RuntimeError):
    """The purge found something it must not archive (English, for operators)."""


@dataclass
class PurgePlan:
    first_seq: int  # 0 when there is nothing to purge
    last_seq: int
    prev_hash: str
    by_class: Counter[str] = field(default_factory=Counter)
    stopped_at: int | None = None  # the first seq still inside its retention (None: end of log or limit)

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1 if self.first_seq else 0


@dataclass
class PurgeReport:
    plan: PurgePlan
    dry_run: bool
    archive: Path | None = None
    sha256: str = ""
    deleted: int = 0


def plan_purge(*, now: datetime | None = None, limit: int = 200_000, batch: int = 5000) -> PurgePlan:
    """The longest prefix of the live log whose every row is past its own class's retention."""
    days = retention_days()
    now = now or clock.now()
    cutoffs = {klass: now - timedelta(days=n) for klass, n in days.items()}
    checkpoint = latest_checkpoint()
    start = checkpoint.last_seq if checkpoint else 0
    plan = PurgePlan(0, start, checkpoint.last_hash if checkpoint else GENESIS)
    cursor = start
    while plan.count < limit:
        rows = list(
            AuditEntry.objects.filter(seq__gt=cursor)
            .order_by("seq")
            .values_list("seq", "at", "action")[: min(batch, limit - plan.count)]
        )
        if not rows:
            return plan
        for seq, at, action in rows:
            klass = classify(action, days)
            if at >= cutoffs[klass]:
                plan.stopped_at = seq
                return plan
            if not plan.first_seq:
                plan.first_seq = seq
            plan.last_seq = seq
            plan.by_class[klass.value] += 1
        cursor = rows[-1][0]
    return plan


def _rows(first_seq: int, last_seq: int) -> Iterable[AuditEntry]:
    return AuditEntry.objects.filter(seq__gte=first_seq, seq__lte=last_seq).order_by("seq").iterator(chunk_size=2000)


@dataclass
class _Cursor:
    prev: str  # the hash the next row must link to
    seq: int  # the seq the next row must have
    count: int = 0


def write_archive(plan: PurgePlan, *, directory: Path | None = None) -> tuple[Path, str, str]:
    """Write the plan's rows (checking their chain) and the manifest; returns (path, sha256, last hash)."""
    directory = directory or archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / archive_name(plan.first_seq, plan.last_seq)
    state = _Cursor(plan.prev_hash, plan.first_seq)

    def write(raw: Any) -> None:
        # mtime=0 and no file name in the header: the same rows always give the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            for entry in _rows(plan.first_seq, plan.last_seq):
                if (
                    entry.seq != state.seq
                    or entry.prev_hash != state.prev
                    or compute_hash(entry.prev_hash, entry) != entry.hash
                ):
                    raise PurgeError(f"audit chain broken at entry #{entry.seq}: refusing to archive and purge")
                line = json.dumps(row_dict(entry), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                gz.write(line.encode() + b"\n")
                state.prev, state.seq, state.count = entry.hash, entry.seq + 1, state.count + 1

    _write_atomically(path, write)
    if state.count != plan.count:
        path.unlink()
        raise PurgeError(f"expected {plan.count} rows #{plan.first_seq}-#{plan.last_seq}, read {state.count}")
    sha = _sha256(path)
    manifest = {
        "format": 1,
        "file": path.name,
        "first_seq": plan.first_seq,
        "last_seq": plan.last_seq,
        "count": plan.count,
        "sha256": sha,
        "first_prev_hash": plan.prev_hash,
        "last_hash": state.prev,
        "by_class": dict(sorted(plan.by_class.items())),
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    _write_atomically(manifest_path(path), lambda raw: raw.write(text.encode()))
    return path, sha, state.prev


def _remove_orphans(directory: Path, first_seq: int, keep: Path) -> None:
    # A run that crashed before its checkpoint left an archive of rows that are all still live;
    # a later run may cover a longer range from the same first row: the older file is redundant.
    for stale in directory.glob(f"audit-{first_seq:012d}-*.jsonl.gz"):
        if stale != keep and not AuditCheckpoint.objects.filter(archive_name=stale.name).exists():
            stale.unlink(missing_ok=True)
            manifest_path(stale).unlink(missing_ok=True)


def _delete_rows(first_seq: int, last_seq: int) -> int:
    deleted, _ = AuditEntry.objects.filter(seq__gte=first_seq, seq__lte=last_seq).delete()
    return deleted


def audit_purge(
    *, actor: Actor = SYSTEM, now: datetime | None = None, dry_run: bool = False, limit: int = 200_000
) -> PurgeReport:
    """Archive and delete the prefix of the log that is past retention (see the module docstring)."""
    plan = plan_purge(now=now, limit=limit)
    if dry_run or not plan.count:
        return PurgeReport(plan, dry_run)
    path, sha, last_hash = write_archive(plan)
    _remove_orphans(path.parent, plan.first_seq, path)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        checkpoint = latest_checkpoint()
        if (checkpoint.last_seq if checkpoint else 0) != plan.first_seq - 1:
            raise PurgeError("another purge ran meanwhile; run again")
        AuditCheckpoint.objects.create(
            created_at=clock.now(),
            first_seq=plan.first_seq,
            last_seq=plan.last_seq,
            count=plan.count,
            first_prev_hash=plan.prev_hash,
            last_hash=last_hash,
            archive_name=path.name,
            archive_sha256=sha,
            retention_days={k.value: v for k, v in retention_days().items()},
        )
        audit_record(
            actor=actor,
            action="audit.purge",
            object_type="audit_checkpoint",
            object_id=plan.last_seq,
            detail={
                "first_seq": plan.first_seq,
                "last_seq": plan.last_seq,
                "count": plan.count,
                "archive": path.name,
                "sha256": sha,
                "by_class": dict(plan.by_class),
            },
        )
        deleted = _delete_rows(plan.first_seq, plan.last_seq)
        if deleted != plan.count:
            raise PurgeError(f"deleted {deleted} rows, expected {plan.count}")
    return PurgeReport(plan, False, path, sha, deleted)
