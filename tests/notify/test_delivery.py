"""The sweep: retries with backoff, dead letters, claims that keep two sweeps from sending twice."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.notify import services
from grassroots.notify.models import Delivery, Notification, Outcome, Status
from grassroots.notify.services import Recipient, RetryPolicy, claim_due, deliver_due, notify, send_claimed
from tests.notify.conftest import Reply

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def sms_row(key: str = "case:5:overdue") -> Notification:
    [row] = notify(
        recipients=[Recipient(user_id=4, address=PHONE)],
        kind="cases.overdue",
        subject="案件超期",
        body="案件已超期，请尽快办理。",
        idempotency_key=key,
        channel="sms",
    )
    return row


@pytest.fixture
def row(notify_settings, django_capture_on_commit_callbacks) -> Notification:
    with django_capture_on_commit_callbacks():  # queue nothing: the tests sweep by hand
        return sms_row()


def test_backoff_schedule_doubles_up_to_the_cap():
    policy = RetryPolicy(base_seconds=30, max_seconds=600, jitter=0)
    assert [policy.delay(n).total_seconds() for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]


def test_jitter_stays_within_its_band():
    policy = RetryPolicy(base_seconds=100, max_seconds=10_000, jitter=0.2)
    rand = random.Random(4)
    delays = [policy.delay(3, rand).total_seconds() for _ in range(200)]
    assert all(320 <= d <= 480 for d in delays)
    assert len(set(delays)) > 100  # spread, not one value


def test_500_then_retry_then_sent_with_the_same_idempotency_key(row, fake_server):
    fake_server.script(Reply(500), Reply(200, {"ok": True}))
    now = clock.now()
    first = deliver_due(now=now)
    assert (first.claimed, first.retrying) == (1, 1)
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 1
    assert row.next_attempt_at == now + timedelta(seconds=30)
    assert "HTTP 500" in row.last_error

    assert deliver_due(now=now + timedelta(seconds=29)).claimed == 0  # not due yet
    second = deliver_due(now=now + timedelta(seconds=30))
    assert second.sent == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and row.last_error == ""
    assert row.address_cipher is None and row.address_masked == "138****5678"  # nothing left to leak
    keys = {r.headers["idempotency-key"] for r in fake_server.requests}
    assert keys == {row.idempotency_key}
    assert [(d.attempt, d.outcome, d.status_code) for d in row.deliveries.all()] == [
        (1, Outcome.RETRY, 500),
        (2, Outcome.SENT, 200),
    ]


def test_400_is_dead_at_once(row, fake_server):
    fake_server.script(Reply(400, {"error": "bad number"}))
    report = deliver_due(now=clock.now())
    assert report.dead == 1
    row.refresh_from_db()
    assert row.status == Status.DEAD and row.attempts == 1 and "HTTP 400" in row.last_error
    assert deliver_due(now=clock.now() + timedelta(days=1)).claimed == 0


@pytest.mark.parametrize("reply", [Reply(429), Reply(200, delay=0.6)], ids=["429", "timeout"])
def test_rate_limit_and_timeout_are_retried(row, fake_server, notify_settings, reply):
    notify_settings.NOTIFY_HTTP_TIMEOUT_SECONDS = 0.2
    fake_server.script(reply)
    assert deliver_due(now=clock.now()).retrying == 1
    row.refresh_from_db()
    assert row.status == Status.FAILED


def test_attempts_are_capped_then_dead(row, fake_server):
    fake_server.responder = lambda seen: Reply(503)
    now = clock.now()
    schedule = []
    for _ in range(4):  # NOTIFY_MAX_ATTEMPTS = 4
        assert deliver_due(now=now).claimed == 1
        row.refresh_from_db()
        schedule.append((row.status, (row.next_attempt_at - now).total_seconds()))
        now = row.next_attempt_at
    assert schedule[:3] == [(Status.FAILED, 30), (Status.FAILED, 60), (Status.FAILED, 120)]
    assert row.status == Status.DEAD and row.attempts == 4
    assert row.last_error.startswith("gave up after 4 attempts")
    assert len(fake_server.requests) == 4
    assert deliver_due(now=now + timedelta(days=1)).claimed == 0


def test_a_claimed_row_is_not_sent_by_a_second_sweep(row, fake_server):
    fake_server.script(Reply(200, {"ok": True}))
    now = clock.now()
    [mine] = claim_due(now=now)  # sweep A claims and has not sent yet
    other = deliver_due(now=now + timedelta(seconds=10))  # sweep B runs meanwhile
    assert other.claimed == 0 and fake_server.requests == []
    assert send_claimed(mine, now=now) == Status.SENT
    assert len(fake_server.requests) == 1
    assert deliver_due(now=now + timedelta(hours=1)).claimed == 0


def test_a_stale_claim_is_taken_over_and_the_late_worker_loses(row, fake_server):
    fake_server.responder = lambda seen: Reply(200, {"ok": True})
    now = clock.now()
    [stale] = claim_due(now=now)  # worker A claims, then hangs past the timeout
    assert deliver_due(now=now + timedelta(seconds=299)).claimed == 0
    takeover = deliver_due(now=now + timedelta(seconds=301))
    assert takeover.sent == 1
    assert send_claimed(stale, now=now + timedelta(seconds=302)) == ""  # A's late result is not recorded
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2
    # A did send (it cannot know it timed out): both requests carry the key the gateway dedupes on.
    assert {r.headers["idempotency-key"] for r in fake_server.requests} == {row.idempotency_key}


def test_a_broken_channel_does_not_stop_the_sweep(row, fake_server, monkeypatch):
    def explode(name):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "get_channel", explode)
    assert deliver_due(now=clock.now()).retrying == 1
    row.refresh_from_db()
    assert row.status == Status.FAILED and "RuntimeError: boom" in row.last_error


def test_management_command_runs_one_sweep(row, fake_server):
    fake_server.script(Reply(200, {"ok": True}))
    out = io.StringIO()
    call_command("deliver_notifications", stdout=out)
    assert "sent 1" in out.getvalue()
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_operator_retries_a_dead_row(row, fake_server, django_capture_on_commit_callbacks):
    fake_server.script(Reply(400), Reply(200, {"ok": True}))
    deliver_due(now=clock.now())
    row.refresh_from_db()
    assert row.status == Status.DEAD
    with django_capture_on_commit_callbacks():
        services.notification_retry(actor=SYSTEM, notification=row)
    assert row.status == Status.PENDING and row.attempts == 0
    assert AuditEntry.objects.filter(action="notify.notification.retry", object_id=str(row.pk)).exists()
    assert deliver_due(now=clock.now()).sent == 1
    with pytest.raises(DomainError):
        services.notification_retry(actor=SYSTEM, notification=row)


def test_many_rows_one_sweep_by_channel(notify_settings, fake_server, django_capture_on_commit_callbacks):
    fake_server.responder = lambda seen: Reply(
        200, {"errcode": 0} if "robot" in seen.path or "webhook" in seen.path else {}
    )
    with django_capture_on_commit_callbacks():
        for channel in ("console", "wecom", "dingtalk"):
            notify(
                recipients=[Recipient(user_id=1)],
                kind="k",
                subject="标题",
                body="正文",
                idempotency_key="e",
                channel=channel,
            )
        sms_row("e2")
    report = deliver_due(now=clock.now())
    assert (report.claimed, report.sent) == (4, 4)
    assert sorted(r.path.split("?")[0] for r in fake_server.requests) == [
        "/cgi-bin/webhook/send",
        "/robot/send",
        "/sms",
    ]
    assert Delivery.objects.count() == 4
