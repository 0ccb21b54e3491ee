"""The database itself refuses UPDATE and DELETE on the audit log."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, audit_record, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    return [audit_record(actor=SYSTEM, action="t", detail={"i": i}) for i in range(3)]


def _refused(fn) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        fn()


def test_queryset_update_is_refused(entries):
    _refused(lambda: AuditEntry.objects.filter(seq=2).update(action="changed"))
    assert AuditEntry.objects.get(seq=2).action == "t"


def test_save_of_an_existing_row_is_refused(entries):
    entry = AuditEntry.objects.get(seq=1)
    entry.detail = {"i": 99}
    _refused(entry.save)
    assert AuditEntry.objects.get(seq=1).detail == {"i": 0}


def test_queryset_and_instance_delete_are_refused(entries):
    _refused(lambda: AuditEntry.objects.filter(seq=3).delete())
    _refused(AuditEntry.objects.get(seq=2).delete)
    _refused(lambda: AuditEntry.objects.all().delete())
    assert AuditEntry.objects.count() == 3


def test_raw_sql_update_and_delete_are_refused(entries):
    def raw(sql: str):
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

        return run

    _refused(raw("UPDATE audit_auditentry SET action = 'x'"))
    _refused(raw("DELETE FROM audit_auditentry WHERE seq = 1"))
    _refused(raw("DELETE FROM audit_auditentry"))
    assert AuditEntry.objects.count() == 3
    assert verify_chain().ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL only")
def test_truncate_is_refused_on_postgresql(entries):
    def truncate() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry")

    _refused(truncate)
    assert AuditEntry.objects.count() == 3


def test_appending_still_works_after_a_refusal(entries):
    _refused(lambda: AuditEntry.objects.filter(seq=1).update(action="x"))
    assert audit_record(actor=SYSTEM, action="after").seq == 4
    assert verify_chain().checked == 4
