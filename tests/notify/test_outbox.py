"""The outbox: written in the caller's transaction, gone with a rollback, deduplicated by key."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.notify import services
from grassroots.notify.models import Notification, Status
from grassroots.notify.services import Recipient, notify

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PHONE = "13987654321"


def _notify(key: str = "case:1:dispatched", **kwargs):
    defaults = {
        "recipients": [7],
        "kind": "cases.dispatched",
        "subject": "新的派遣案件",
        "body": "城北社区向您派遣了一件案件，请在30分钟内报到。",
        "idempotency_key": key,
    }
    return notify(**{**defaults, **kwargs})


def test_row_is_written_in_the_transaction_and_delivered_after_commit(settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        [row] = _notify(area_path="3205.320583.001")
        assert Notification.objects.get(pk=row.pk).status == Status.PENDING  # visible inside the transaction
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.user_id == 7 and row.attempts == 1 and row.sent_at is not None
    assert row.deliveries.count() == 1


def test_nothing_is_written_or_sent_when_the_change_rolls_back(settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify()
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not Notification.objects.exists()


def test_same_key_twice_adds_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        first = _notify(recipients=[7, Recipient(user_id=8), Recipient(address=PHONE)], channel="console")
        again = _notify(recipients=[7, Recipient(user_id=8), Recipient(address=PHONE)], channel="console")
        more = _notify(recipients=[7, 9])
    assert [r.pk for r in first] == [r.pk for r in again]
    assert len(first) == 3
    assert len(more) == 2 and more[0].pk == first[0].pk  # user 7 already has it; user 9 is new
    assert Notification.objects.count() == 4
    assert len({r.idempotency_key for r in Notification.objects.all()}) == 4


def test_phone_is_sealed_never_stored_in_clear(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        [row] = _notify(recipients=[Recipient(user_id=3, address=PHONE)], channel="sms")
    assert row.address_masked == "139****4321"
    assert services.address_of(row) == PHONE
    assert PHONE.encode() not in bytes(row.address_cipher)
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        values = cursor.fetchone()
    for value in values:
        raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        assert PHONE.encode() not in raw
        assert PHONE[-8:].encode() not in raw


def test_input_is_checked(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        with pytest.raises(DomainError, match="手机号码"):
            _notify(channel="sms")
        with pytest.raises(DomainError, match="渠道"):
            _notify(channel="pigeon")
        with pytest.raises(DomainError, match="幂等键"):
            _notify(key="")
        with pytest.raises(DomainError, match="接收人"):
            _notify(recipients=[Recipient()])
        [group] = _notify(recipients=[Recipient()], channel="wecom")  # a robot posts to its group
    assert group.user_id is None and group.idempotency_key.endswith("|wecom|group")


def test_queryset_filters(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        _notify(key="a", recipients=[7], area_path="3205.320583.001.001")
        _notify(key="b", recipients=[8], area_path="3205.320583.002")
    assert Notification.objects.for_user(7).count() == 1
    assert Notification.objects.in_scope(Scope(area_path="3205.320583.001")).count() == 1
    assert Notification.objects.in_scope(Scope.everything()).count() == 2
    assert Notification.objects.in_scope(Scope.nothing()).count() == 0


def test_commit_queues_the_task_on_the_database_backend(settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        [row] = _notify()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "grassroots.notify.tasks.deliver_notifications"
    row.refresh_from_db()
    assert row.status == Status.PENDING  # a worker (or the cron sweep) sends it


def test_one_delivery_task_per_transaction_however_many_calls(settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for n in range(50):
            _notify(key=f"fanout:{n}")
        # A savepoint that rolls back takes its callback with it; the next call registers again.
        with pytest.raises(RuntimeError), transaction.atomic():
            _notify(key="inner")
            raise RuntimeError("one recipient failed")
    assert len(callbacks) == 1
    assert Notification.objects.filter(status=Status.SENT).count() == 50
