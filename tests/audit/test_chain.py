"""The append-only, hash-chained audit log."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import (
    GENESIS,
    SYSTEM,
    Actor,
    actor_of,
    audit_record,
    audit_record_reads,
    compute_hash,
    verify_chain,
)

pytestmark = pytest.mark.django_db

ALICE = Actor(id=7, label="王小丽", ip="10.0.0.8")


def _write(n: int) -> list[AuditEntry]:
    return [
        audit_record(
            actor=ALICE,
            action="test.write",
            object_type="thing",
            object_id=i,
            area_path="3205.320583",
            detail={"i": i, "名字": "城北社区", "nested": {"list": [1, "二", {"三": None}], "ok": True, "x": 1.5}},
        )
        for i in range(1, n + 1)
    ]


def _drop_triggers() -> None:
    """Remove the append-only triggers; the test's transaction rollback restores them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_entry_no_change ON audit_auditentry")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_update")
            cursor.execute("DROP TRIGGER audit_entry_no_delete")


# --- writing ---------------------------------------------------------------------------


def test_entries_chain_from_genesis_with_consecutive_seq():
    entries = _write(5)
    rows = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    for prev, entry in itertools.pairwise(rows):
        assert entry.prev_hash == prev.hash
    assert [e.hash for e in rows] == [e.hash for e in entries]
    assert len({e.hash for e in rows}) == 5


def test_entry_fields_are_recorded():
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    entry = audit_record(
        actor=Actor(id=3, label="x" * 200, ip="2001:db8::1"),
        action="places.area.create",
        object_type="area",
        object_id=12345,
        area_path="3205",
        at=at,
    )
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.at == at
    assert entry.actor_id == 3
    assert entry.actor_label == "x" * 150
    assert entry.object_id == "12345"
    assert entry.ip == "2001:db8::1"
    assert str(entry) == "#1 places.area.create area:12345"


def test_hash_is_stable_across_a_database_round_trip_with_chinese_and_nested_detail():
    written = _write(3)
    for entry in written:
        stored = AuditEntry.objects.get(seq=entry.seq)
        assert stored.detail == entry.detail
        assert compute_hash(stored.prev_hash, stored) == stored.hash == entry.hash


def test_non_json_detail_values_are_stored_as_text_and_still_verify():
    audit_record(actor=SYSTEM, action="t", detail={"when": datetime(2026, 1, 1, tzinfo=UTC), "n": 10**12})
    stored = AuditEntry.objects.get()
    assert stored.detail["when"] == "2026-01-01 00:00:00+00:00"
    assert verify_chain().ok


def test_non_utc_time_is_stored_in_utc_and_verifies():
    local = datetime(2026, 3, 1, 17, 0, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    audit_record(actor=SYSTEM, action="t", at=local)
    stored = AuditEntry.objects.get()
    assert stored.at == local
    assert verify_chain().ok


def test_actor_of_users_and_anonymous(django_user_model):
    user = django_user_model(username="zhang", pk=42)
    assert actor_of(user, "1.2.3.4") == Actor(id=42, label="zhang", ip="1.2.3.4")
    assert actor_of(None) == Actor(id=None, label="anonymous")
    from django.contrib.auth.models import AnonymousUser

    assert actor_of(AnonymousUser(), "1.1.1.1").label == "anonymous"


def test_audit_record_reads_one_entry_for_many():
    assert audit_record_reads(actor=ALICE, object_type="person", object_ids=[]) is None
    assert AuditEntry.objects.count() == 0
    one = audit_record_reads(actor=ALICE, object_type="person", object_ids=[5])
    assert (one.action, one.object_id, one.detail) == ("person.view", "5", {})
    many = audit_record_reads(actor=ALICE, object_type="person", object_ids=[5, 6, 7], action="registry.person.view")
    assert (many.action, many.object_id, many.detail) == ("registry.person.view", "", {"ids": ["5", "6", "7"]})


def test_a_failed_write_leaves_no_audit_entry():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=SYSTEM, action="t")
        raise RuntimeError
    assert AuditEntry.objects.count() == 0
    assert audit_record(actor=SYSTEM, action="t").seq == 1


# --- verifying ------------------------------------------------------------------------------


def test_verify_chain_on_an_empty_and_an_intact_log():
    assert verify_chain().ok and verify_chain().checked == 0
    _write(7)
    report = verify_chain(batch=3)  # crosses batch boundaries
    assert report.ok
    assert report.checked == 7
    assert report.broken_at is None


def test_verify_audit_command_on_an_intact_log(capsys):
    _write(4)
    call_command("verify_audit")
    assert "audit chain intact: 4 entries checked" in capsys.readouterr().out


def test_modified_middle_row_is_reported_at_its_seq():
    _write(6)
    _drop_triggers()
    AuditEntry.objects.filter(seq=3).update(detail={"i": 999})
    report = verify_chain(batch=2)
    assert not report.ok
    assert report.broken_at == 3
    assert report.checked == 2
    assert "content" in report.reason
    with pytest.raises(CommandError, match=r"audit chain broken at entry #3") as excinfo:
        call_command("verify_audit")
    assert excinfo.value.returncode == 1


def test_rehashed_row_still_breaks_the_next_link():
    _write(5)
    _drop_triggers()
    entry = AuditEntry.objects.get(seq=2)
    entry.action = "forged"
    entry.hash = compute_hash(entry.prev_hash, entry)
    entry.save()
    report = verify_chain()
    assert report.broken_at == 3
    assert "prev_hash" in report.reason


def test_deleted_middle_row_is_reported_as_missing():
    _write(5)
    _drop_triggers()
    AuditEntry.objects.filter(seq=4).delete()
    report = verify_chain()
    assert report.broken_at == 4
    assert report.reason == "entry #4 is missing"
    with pytest.raises(CommandError, match=r"#4: entry #4 is missing \(3 entries before it are intact\)"):
        call_command("verify_audit")


def test_deleted_first_row_is_reported():
    _write(3)
    _drop_triggers()
    AuditEntry.objects.filter(seq=1).delete()
    assert verify_chain().broken_at == 1


def test_changed_time_is_detected():
    _write(3)
    _drop_triggers()
    AuditEntry.objects.filter(seq=2).update(at=AuditEntry.objects.get(seq=2).at + timedelta(seconds=1))
    assert verify_chain().broken_at == 2


def test_verify_audit_command_exits_non_zero_from_the_command_line():
    """The exit code that cron/monitoring sees (CommandError → sys.exit(returncode))."""
    _write(3)
    _drop_triggers()
    AuditEntry.objects.filter(seq=2).update(actor_label="someone else")
    with pytest.raises(SystemExit) as excinfo:
        from django.core.management import ManagementUtility

        ManagementUtility(["manage.py", "verify_audit"]).execute()
    assert excinfo.value.code == 1
