"""Audit retention: classification, the prefix purge, archives, checkpoints and the database guards."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from grassroots.audit import retention
from grassroots.audit.models import AuditCheckpoint, AuditEntry
from grassroots.audit.retention import (
    ACTION_CLASSES,
    RetentionClass,
    RetentionConfigError,
    audit_purge,
    classify,
    manifest_path,
    plan_purge,
    read_archive,
    retention_days,
    row_dict,
    verify_archive,
    verify_archives,
)
from grassroots.audit.services import GENESIS, SYSTEM, audit_record, verify_chain

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ACCESS, PROCESSING, EXPORT = "registry.person.view", "registry.person.update", "registry.person.export"


@pytest.fixture(autouse=True)
def _archive_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.GRASSROOTS_AUDIT_ARCHIVE_DIR = str(tmp_path / "audit-archive")
    settings.GRASSROOTS_AUDIT_RETENTION_DAYS = {}
    return tmp_path / "audit-archive"


def _write(*rows: tuple[str, int]) -> list[AuditEntry]:
    """Entries (action, age in days) in this order."""
    return [
        audit_record(actor=SYSTEM, action=action, object_id=i, detail={"i": i}, at=NOW - timedelta(days=age))
        for i, (action, age) in enumerate(rows, start=1)
    ]


def _refused(sql: str, params: list[object] | None = None) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- classification and settings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "klass"),
    [
        ("registry.person.view", RetentionClass.access),
        ("registry.person.unmask", RetentionClass.access),
        ("auth.login", RetentionClass.access),
        ("registry.person.export_plain", RetentionClass.export),
        ("registry.import.rejected_download", RetentionClass.export),
        ("registry.subject_request.copy_export", RetentionClass.export),
        ("registry.person.update", RetentionClass.processing),
        ("cases.whistle", RetentionClass.processing),  # a family: cases.<workflow action>
        ("engage.topic.review", RetentionClass.processing),
        ("registry.subject_request.refuse", RetentionClass.processing),
        ("registry.subject_request.view", RetentionClass.access),  # exact name wins over the family
    ],
)
def test_actions_are_classified_by_the_table(action: str, klass: RetentionClass):
    assert classify(action) is klass


def test_unknown_actions_get_the_longest_retention():
    assert classify("somebody.new.action") is RetentionClass.processing
    days = {RetentionClass.access: 180, RetentionClass.processing: 1095, RetentionClass.export: 2000}
    assert classify("somebody.new.action", days) is RetentionClass.export
    assert classify("registry.person.brand_new", days) is RetentionClass.export  # no registry.person.* family


def test_families_never_classify_as_access():
    families = {name: klass for name, klass in ACTION_CLASSES.items() if name.endswith(".*")}
    assert families and RetentionClass.access not in families.values()


def test_reads_in_the_code_are_access_entries():
    # The read actions the selectors write today; a read classed longer is safe, shorter would not be.
    for action in ("party.member.list", "estates.zone.heads.view", "registry.linkage.view", "registry.person.search"):
        assert classify(action) is RetentionClass.access


def test_retention_defaults_and_overrides(settings):  # type: ignore[no-untyped-def]
    assert retention_days() == {
        RetentionClass.access: 180,
        RetentionClass.processing: 1095,
        RetentionClass.export: 1095,
    }
    settings.GRASSROOTS_AUDIT_RETENTION_DAYS = {"access": "365", "export": 1825}
    assert retention_days()[RetentionClass.access] == 365
    assert retention_days()[RetentionClass.export] == 1825


@pytest.mark.parametrize(
    "configured", [{"access": 179}, {"processing": "1000"}, {"export": 30}, {"access": "x"}, {"acces": 400}]
)
def test_retention_below_the_minimum_is_refused(settings, configured):  # type: ignore[no-untyped-def]
    settings.GRASSROOTS_AUDIT_RETENTION_DAYS = configured
    with pytest.raises(RetentionConfigError):
        retention_days()
    _write((ACCESS, 400))
    with pytest.raises(CommandError, match="GRASSROOTS_AUDIT_RETENTION_DAYS"):
        call_command("audit_purge")
    assert AuditEntry.objects.count() == 1


# --- what is purged ----------------------------------------------------------------------------


def test_rows_younger_than_their_retention_are_never_deleted():
    _write((ACCESS, 179), (PROCESSING, 1000), (EXPORT, 1094))
    report = audit_purge(now=NOW)
    assert report.plan.count == 0 and report.deleted == 0
    assert AuditEntry.objects.count() == 3
    assert not AuditCheckpoint.objects.exists()


def test_only_a_prefix_of_rows_all_past_their_retention_is_purged():
    _write(
        (ACCESS, 400),  # 1 past
        (PROCESSING, 1200),  # 2 past
        (ACCESS, 181),  # 3 past
        (PROCESSING, 400),  # 4 inside 3 years: stops the prefix
        (ACCESS, 400),  # 5 past, but after #4 in the chain: kept
        ("unknown.action", 400),  # 6 unknown: longest class
    )
    plan = plan_purge(now=NOW)
    assert (plan.first_seq, plan.last_seq, plan.stopped_at) == (1, 3, 4)
    assert plan.by_class == {"access": 2, "processing": 1}
    report = audit_purge(now=NOW)
    assert report.deleted == 3
    live = list(AuditEntry.objects.order_by("seq").values_list("seq", "action"))
    assert live[:3] == [(4, PROCESSING), (5, ACCESS), (6, "unknown.action")]
    assert live[3][1] == "audit.purge"  # the purge itself is on the record
    assert verify_chain().ok


def test_a_longer_setting_keeps_rows_longer(settings):  # type: ignore[no-untyped-def]
    _write((ACCESS, 300), (ACCESS, 300))
    settings.GRASSROOTS_AUDIT_RETENTION_DAYS = {"access": 365}
    assert audit_purge(now=NOW).deleted == 0
    settings.GRASSROOTS_AUDIT_RETENTION_DAYS = {}
    assert audit_purge(now=NOW).deleted == 2


def test_the_limit_bounds_one_run_and_the_next_run_continues():
    _write(*[(ACCESS, 400)] * 5, (PROCESSING, 10))
    first = audit_purge(now=NOW, limit=2)
    second = audit_purge(now=NOW, limit=10)
    assert (first.plan.first_seq, first.plan.last_seq) == (1, 2)
    assert (second.plan.first_seq, second.plan.last_seq) == (3, 5)
    checkpoints = list(AuditCheckpoint.objects.order_by("last_seq"))
    assert [c.last_seq for c in checkpoints] == [2, 5]
    assert checkpoints[1].first_prev_hash == checkpoints[0].last_hash
    assert verify_chain().ok
    assert all(check.ok for _, check in verify_archives())


def test_dry_run_changes_nothing(capsys, _archive_dir):  # type: ignore[no-untyped-def]
    _write((ACCESS, 400), (PROCESSING, 10))
    before = AuditEntry.objects.count()
    call_command("audit_purge", "--dry-run")
    assert "would archive and delete entries #1-#1 (1: access 1)" in capsys.readouterr().out
    assert AuditEntry.objects.count() == before
    assert not AuditCheckpoint.objects.exists()
    assert not _archive_dir.exists() or not any(_archive_dir.iterdir())


# --- the archive -------------------------------------------------------------------------------


def test_archive_holds_the_rows_and_the_manifest_checksum_verifies(_archive_dir):  # type: ignore[no-untyped-def]
    written = _write((ACCESS, 400), (EXPORT, 1200), (PROCESSING, 5))
    expected = [row_dict(AuditEntry.objects.get(seq=e.seq)) for e in written[:2]]
    report = audit_purge(now=NOW)
    assert report.archive is not None and report.archive.parent == _archive_dir
    assert list(read_archive(report.archive)) == expected
    manifest = json.loads(manifest_path(report.archive).read_text())
    assert manifest["first_seq"] == 1 and manifest["last_seq"] == 2 and manifest["count"] == 2
    assert manifest["first_prev_hash"] == GENESIS and manifest["last_hash"] == expected[-1]["hash"]
    import hashlib

    assert manifest["sha256"] == hashlib.sha256(report.archive.read_bytes()).hexdigest() == report.sha256
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.archive_name, checkpoint.archive_sha256) == (report.archive.name, report.sha256)
    assert checkpoint.last_hash == expected[-1]["hash"]
    assert verify_archive(report.archive).ok
    assert [check.ok for _, check in verify_archives()] == [True]


def test_a_tampered_archive_fails_verification(capsys):  # type: ignore[no-untyped-def]
    _write((ACCESS, 400), (ACCESS, 400), (PROCESSING, 5))
    report = audit_purge(now=NOW)
    assert report.archive is not None
    rows = list(read_archive(report.archive))
    rows[0]["actor_label"] = "someone else"
    # Rewrite and fix the manifest's checksum too: the hash chain inside still catches it.
    with gzip.open(report.archive, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    manifest = json.loads(manifest_path(report.archive).read_text())
    manifest["sha256"] = retention._sha256(report.archive)
    manifest_path(report.archive).write_text(json.dumps(manifest))
    assert not verify_archive(report.archive).ok
    (_, check) = verify_archives()[0]
    assert not check.ok and "SHA-256" in check.reason  # the checkpoint still holds the original checksum
    with pytest.raises(CommandError):
        call_command("verify_audit", "--archives")


# --- the chain after a purge ------------------------------------------------------------------


def test_chain_verifies_after_a_purge_and_appends_continue_it(capsys):  # type: ignore[no-untyped-def]
    _write((ACCESS, 400), (ACCESS, 300), (PROCESSING, 5))
    audit_purge(now=NOW)
    report = verify_chain()
    assert report.ok and report.start_seq == 3 and report.checked == 2
    entry = audit_record(actor=SYSTEM, action="after.purge")
    assert entry.seq == 5
    assert verify_chain().ok
    call_command("verify_audit", "--archives")
    out = capsys.readouterr().out
    assert "archive audit-000000000001-000000000002.jsonl.gz intact: 2 entries" in out
    assert "audit chain intact: 3 entries checked from #3" in out


def test_the_first_live_row_must_link_to_the_checkpoint():
    _write((ACCESS, 400), (PROCESSING, 5), (PROCESSING, 5))
    audit_purge(now=NOW)
    # Drop the guard, then alter the first live row: verification from the checkpoint notices.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_entry_no_change ON audit_auditentry")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_update")
    AuditEntry.objects.filter(seq=2).update(prev_hash="f" * 64)
    report = verify_chain()
    assert report.broken_at == 2 and "prev_hash" in report.reason


def test_the_purge_refuses_to_archive_a_broken_chain():
    _write((ACCESS, 400), (ACCESS, 400), (PROCESSING, 5))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_entry_no_change ON audit_auditentry")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_update")
    AuditEntry.objects.filter(seq=2).update(detail={"i": 99})
    with pytest.raises(retention.PurgeError, match="#2"):
        audit_purge(now=NOW)
    assert AuditEntry.objects.filter(seq__lte=2).count() == 2
    assert not AuditCheckpoint.objects.exists()


# --- the database guards ----------------------------------------------------------------------


def test_database_refuses_deleting_rows_newer_than_the_checkpoint():
    _write((ACCESS, 400), (ACCESS, 400), (PROCESSING, 5), (PROCESSING, 1))
    audit_purge(now=NOW)
    assert AuditCheckpoint.objects.get().last_seq == 2
    _refused("DELETE FROM audit_auditentry WHERE seq = 3")
    _refused("DELETE FROM audit_auditentry")
    _refused("UPDATE audit_auditentry SET action = 'x' WHERE seq = 4")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(seq=4).delete()
    assert AuditEntry.objects.filter(seq__in=[3, 4]).count() == 2
    assert verify_chain().ok


def test_database_refuses_any_delete_before_a_checkpoint():
    _write((ACCESS, 400), (PROCESSING, 5))
    _refused("DELETE FROM audit_auditentry WHERE seq = 1")
    assert AuditEntry.objects.count() == 2


def test_database_refuses_a_checkpoint_that_does_not_match_the_chain():
    entries = _write((ACCESS, 400), (ACCESS, 400), (PROCESSING, 5))
    base = {"created_at": NOW, "count": 2, "first_prev_hash": GENESIS, "archive_name": "x", "archive_sha256": "0"}
    # A hash that is not the row's, a range not starting after the last checkpoint, a row that does not exist.
    for fields in (
        {"first_seq": 1, "last_seq": 2, "last_hash": "e" * 64},
        {"first_seq": 2, "last_seq": 2, "last_hash": entries[1].hash},
        {"first_seq": 1, "last_seq": 9, "last_hash": entries[1].hash},
    ):
        with pytest.raises(DatabaseError, match="checkpoint"), transaction.atomic():
            AuditCheckpoint.objects.create(**base, **fields)
    assert not AuditCheckpoint.objects.exists()
    _refused("DELETE FROM audit_auditentry WHERE seq = 1")


def test_checkpoints_are_append_only():
    _write((ACCESS, 400), (PROCESSING, 5))
    audit_purge(now=NOW)
    _refused("UPDATE audit_auditcheckpoint SET last_hash = 'x'")
    _refused("DELETE FROM audit_auditcheckpoint")
    assert AuditCheckpoint.objects.count() == 1


# --- crashes ----------------------------------------------------------------------------------


def test_a_crash_between_archive_and_delete_loses_nothing_and_the_rerun_is_idempotent(monkeypatch, _archive_dir):  # type: ignore[no-untyped-def]
    _write((ACCESS, 400), (EXPORT, 1200), (PROCESSING, 5))
    before = list(AuditEntry.objects.order_by("seq").values_list("seq", "hash"))

    def crash(first_seq: int, last_seq: int) -> int:
        raise RuntimeError("killed")

    monkeypatch.setattr(retention, "_delete_rows", crash)
    with pytest.raises(RuntimeError, match="killed"):
        audit_purge(now=NOW)
    # The checkpoint and the purge's own entry rolled back with the failed delete.
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "hash")) == before
    assert not AuditCheckpoint.objects.exists()
    leftover = sorted(p.name for p in _archive_dir.iterdir())
    first_bytes = (_archive_dir / leftover[0]).read_bytes()
    assert verify_chain().ok

    monkeypatch.undo()
    report = audit_purge(now=NOW)
    assert report.deleted == 2
    assert sorted(p.name for p in _archive_dir.iterdir()) == leftover  # same files, no duplicates
    assert report.archive is not None and report.archive.read_bytes() == first_bytes
    assert AuditCheckpoint.objects.count() == 1
    assert verify_chain().ok and verify_archive(report.archive).ok
    # Running again finds nothing more to do.
    again = audit_purge(now=NOW)
    assert again.deleted == 0 and AuditCheckpoint.objects.count() == 1


def test_a_crashed_run_over_a_shorter_range_leaves_no_stale_archive(monkeypatch, _archive_dir):  # type: ignore[no-untyped-def]
    _write((ACCESS, 400), (ACCESS, 400), (PROCESSING, 5))
    monkeypatch.setattr(retention, "_delete_rows", lambda first, last: (_ for _ in ()).throw(RuntimeError("killed")))
    with pytest.raises(RuntimeError):
        audit_purge(now=NOW, limit=1)
    monkeypatch.undo()
    report = audit_purge(now=NOW)
    assert report.deleted == 2
    names = sorted(p.name for p in _archive_dir.iterdir())
    assert names == ["audit-000000000001-000000000002.jsonl.gz", "audit-000000000001-000000000002.manifest.json"]
