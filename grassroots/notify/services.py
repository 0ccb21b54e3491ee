"""Writing to the outbox, and the delivery sweep that empties it.

``notify`` is called inside the transaction of the change it announces: the outbox rows
commit or roll back with that change, and delivery is queued with ``transaction.on_commit``,
so a rolled-back change leaves no row and sends nothing.

Delivery is at-least-once towards the channel, made effectively once by two things: a row is
claimed by a compare-and-set on (status, attempts) before it is sent, so two sweeps never send
it both; and the idempotency key travels with every request, so a gateway can drop the repeat
that follows a worker dying between sending and recording (a "sending" row older than
``NOTIFY_SENDING_TIMEOUT_SECONDS`` is claimed again).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError
from grassroots.core.masking import mask_phone
from grassroots.notify.channels import DeliveryResult, Message, get_channel
from grassroots.notify.models import ChannelName, Delivery, Notification, Outcome, Status

logger = logging.getLogger(__name__)

ADDRESS_CONTEXT = "notify.address"
_MAX_KEY = 150  # the caller's part of the key; the recipient's part is appended


@dataclass(frozen=True)
class Recipient:
    """A user (shown in-app), an address (a phone number for SMS, an @-mention for robots), or both.

    A robot channel (WeCom, DingTalk) posts to a group, so ``Recipient()`` (neither) is allowed there.
    """

    user_id: int | None = None
    address: str = ""


def _recipient_key(recipient: Recipient) -> str:
    # The address enters the key only as a keyed hash: the key is stored and sent in clear.
    parts = []
    if recipient.user_id is not None:
        parts.append(f"u{recipient.user_id}")
    if recipient.address:
        parts.append("a" + crypto.blind_index(recipient.address, context=ADDRESS_CONTEXT)[:16])
    return ".".join(parts) or "group"


def _row_key(idempotency_key: str, channel: str, recipient: Recipient) -> str:
    return f"{idempotency_key}|{channel}|{_recipient_key(recipient)}"


def _enqueue_delivery() -> None:
    from grassroots.notify.tasks import deliver_notifications

    try:
        deliver_notifications.enqueue()
    except Exception:  # the rows are committed; the next sweep (cron) sends them
        logger.exception("could not enqueue deliver_notifications; rows wait for the next sweep")


def _enqueue_after_commit() -> None:
    """Queue one delivery task when the transaction commits, however many notify() calls it made.

    A mobilisation writes tens of thousands of rows in one transaction; one task sends them all.
    Django drops the callback with a rolled-back savepoint, so a later call registers it again.
    """
    if any(entry[1] is _enqueue_delivery for entry in connection.run_on_commit):
        return
    transaction.on_commit(_enqueue_delivery)


def notify(
    *,
    recipients: Sequence[Recipient | int],
    kind: str,
    subject: str,
    body: str,
    idempotency_key: str,
    payload: dict[str, Any] | None = None,
    channel: str | None = None,
    area_path: str = "",
) -> list[Notification]:
    """Write one outbox row per recipient in the caller's transaction; deliver after it commits.

    ``recipients``: ``Recipient``s or bare user ids. ``idempotency_key`` names the event (e.g.
    ``"case:42:overdue:2026-11-24"``); calling again with the same key, channel and recipient adds
    nothing and returns the existing rows. ``channel`` defaults to ``NOTIFY_DEFAULT_CHANNEL``.
    """
    if not connection.in_atomic_block:
        # Outside a transaction the row would commit even if the caller's change later failed.
        raise RuntimeError("notify() must be called inside the transaction of the change it announces")
    channel = channel or settings.NOTIFY_DEFAULT_CHANNEL
    if channel not in ChannelName.values:
        raise DomainError(f"未知的通知渠道“{channel}”。", field="channel")
    if not idempotency_key or len(idempotency_key) > _MAX_KEY:
        raise DomainError(f"通知的幂等键不能为空，且不超过{_MAX_KEY}个字符。", field="idempotency_key")
    if not subject.strip() and not body.strip():
        raise DomainError("通知的标题和正文不能都为空。", field="body")
    people = [Recipient(user_id=r) if isinstance(r, int) else r for r in recipients]
    robot = channel in (ChannelName.WECOM, ChannelName.DINGTALK)
    for person in people:
        if person.user_id is None and not person.address and not robot:
            raise DomainError("通知的接收人必须是用户或号码。", field="recipients")
        if channel == ChannelName.SMS and not person.address:
            raise DomainError("短信通知必须提供手机号码。", field="recipients")
    now = clock.now()
    rows: dict[str, Notification] = {}
    for person in people:
        key = _row_key(idempotency_key, channel, person)
        rows[key] = Notification(
            idempotency_key=key,
            channel=channel,
            kind=kind[:80],
            subject=subject[:200],
            body=body,
            payload=payload or {},
            user_id=person.user_id,
            address_cipher=crypto.encrypt(person.address, context=ADDRESS_CONTEXT) if person.address else None,
            address_hash=crypto.blind_index(person.address, context=ADDRESS_CONTEXT) if person.address else "",
            address_masked=mask_phone(person.address) if person.address else "",
            area_path=area_path,
            status=Status.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
    if not rows:
        return []
    # ON CONFLICT DO NOTHING (PostgreSQL) / INSERT OR IGNORE (SQLite): a repeat, even a concurrent
    # one, adds nothing and does not abort the caller's transaction.
    Notification.objects.bulk_create(rows.values(), ignore_conflicts=True)
    _enqueue_after_commit()
    return list(Notification.objects.filter(idempotency_key__in=rows.keys()).order_by("id"))


def address_of(notification: Notification) -> str:
    """The unsealed address (empty once the message is sent and the ciphertext wiped)."""
    if not notification.address_cipher:
        return ""
    return crypto.decrypt(bytes(notification.address_cipher), context=ADDRESS_CONTEXT)


# --- retry policy -------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    sending_timeout_seconds: float = 300.0

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        return cls(
            max_attempts=int(settings.NOTIFY_MAX_ATTEMPTS),
            base_seconds=float(settings.NOTIFY_BACKOFF_BASE_SECONDS),
            max_seconds=float(settings.NOTIFY_BACKOFF_MAX_SECONDS),
            jitter=float(settings.NOTIFY_BACKOFF_JITTER),
            sending_timeout_seconds=float(settings.NOTIFY_SENDING_TIMEOUT_SECONDS),
        )

    def delay(self, attempts: int, rand: random.Random | None = None) -> timedelta:
        """Wait after the ``attempts``-th failed attempt: base·2^(n-1), capped, then jittered.

        Jitter spreads the retries of many rows that failed together (a gateway outage).
        """
        seconds = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        if self.jitter:
            seconds *= (rand or random).uniform(1 - self.jitter, 1 + self.jitter)
        return timedelta(seconds=seconds)


# --- the sweep ------------------------------------------------------------------------------


@dataclass
class SweepReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    lost_claims: int = 0  # rows another sweep claimed first (or re-claimed after our timeout)
    ids: list[int] = field(default_factory=list)


def claim_due(
    *, now: datetime | None = None, limit: int | None = None, policy: RetryPolicy | None = None
) -> list[Notification]:
    """Mark due rows "sending" and return them; a row is returned to one caller only.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent sweeps take disjoint rows.
    SQLite: the IMMEDIATE transaction holds the single write lock, so sweeps take turns. On both,
    each row is taken by a compare-and-set on (status, attempts), so a row that changed since it
    was read is skipped rather than taken twice.
    """
    now = now or clock.now()
    policy = policy or RetryPolicy.from_settings()
    limit = limit or int(settings.NOTIFY_BATCH_SIZE)
    stale_before = now - timedelta(seconds=policy.sending_timeout_seconds)
    claimed: list[Notification] = []
    with transaction.atomic():
        candidates = Notification.objects.due(now=now, stale_before=stale_before).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        for row in list(candidates[:limit]):
            won = Notification.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
                status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
            )
            if won:
                row.status, row.attempts, row.claimed_at = Status.SENDING, row.attempts + 1, now
                claimed.append(row)
    return claimed


def _record(
    row: Notification,
    result: DeliveryResult,
    *,
    now: datetime,
    policy: RetryPolicy,
    duration_ms: int,
    rand: random.Random | None,
) -> str:
    """Store the outcome of the attempt ``row.attempts``; return the new status, or "" if the claim was lost."""
    changes: dict[str, Any] = {"claimed_at": None}
    if result.outcome == Outcome.SENT:
        # Sent: the address has served its purpose; keep only the hash and the masked form.
        changes.update(status=Status.SENT, sent_at=now, last_error="", address_cipher=None)
    elif result.outcome == Outcome.RETRY and row.attempts < policy.max_attempts:
        changes.update(
            status=Status.FAILED, last_error=result.error, next_attempt_at=now + policy.delay(row.attempts, rand)
        )
    else:
        reason = (
            result.error
            if result.outcome == Outcome.PERMANENT
            else f"gave up after {row.attempts} attempts: {result.error}"
        )
        changes.update(status=Status.DEAD, last_error=reason)
    with transaction.atomic():
        # Only the holder of this claim may finish it: a sweep that timed us out owns the row now.
        won = Notification.objects.filter(pk=row.pk, status=Status.SENDING, attempts=row.attempts).update(**changes)
        Delivery.objects.create(
            notification_id=row.pk,
            attempt=row.attempts,
            at=now,
            outcome=result.outcome,
            status_code=result.status_code,
            error=result.error,
            duration_ms=duration_ms,
        )
    return str(changes["status"]) if won else ""


def deliver_due(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    policy: RetryPolicy | None = None,
    rand: random.Random | None = None,
) -> SweepReport:
    """One sweep: claim the due rows, send each through its channel, record the outcome."""
    policy = policy or RetryPolicy.from_settings()
    report = SweepReport()
    for row in claim_due(now=now, limit=limit, policy=policy):
        report.claimed += 1
        report.ids.append(row.pk)
        status = send_claimed(row, now=now, policy=policy, rand=rand)
        if status == Status.SENT:
            report.sent += 1
        elif status == Status.FAILED:
            report.retrying += 1
        elif status == Status.DEAD:
            report.dead += 1
        else:
            report.lost_claims += 1
    if report.claimed:
        logger.info(
            "notification sweep: claimed=%d sent=%d retrying=%d dead=%d lost=%d",
            report.claimed,
            report.sent,
            report.retrying,
            report.dead,
            report.lost_claims,
        )
    return report


def send_claimed(
    row: Notification,
    *,
    now: datetime | None = None,
    policy: RetryPolicy | None = None,
    rand: random.Random | None = None,
) -> str:
    """Send a row this process claimed and record the outcome; the row's new status ("" if the claim was lost)."""
    policy = policy or RetryPolicy.from_settings()
    started = time.monotonic()
    try:
        message = Message(
            idempotency_key=row.idempotency_key,
            kind=row.kind,
            subject=row.subject,
            body=row.body,
            payload=row.payload,
            user_id=row.user_id,
            address=address_of(row),
        )
        result = get_channel(row.channel).send(message)
    except Exception as exc:  # a bug or a bad key must not stop the sweep; the row stays visible
        logger.exception("notification %s: channel %s raised", row.pk, row.channel)
        result = DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
    duration_ms = int((time.monotonic() - started) * 1000)
    status = _record(row, result, now=now or clock.now(), policy=policy, duration_ms=duration_ms, rand=rand)
    if status == Status.DEAD:
        logger.warning("notification %s dead after %d attempts: %s", row.pk, row.attempts, result.error)
    elif not status:
        logger.warning("notification %s: claim lost before the outcome was recorded", row.pk)
    return status


@transaction.atomic
def notification_retry(*, actor: Actor, notification: Notification) -> Notification:
    """An operator sends a dead notification again (after fixing the gateway, say)."""
    if notification.status != Status.DEAD:
        raise DomainError("只有已放弃的通知可以重新发送。")
    if notification.channel == ChannelName.SMS and not notification.address_cipher:
        raise DomainError("该短信通知的号码已不可用，无法重新发送。")
    now = clock.now()
    Notification.objects.filter(pk=notification.pk, status=Status.DEAD).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, last_error=""
    )
    audit_record(
        actor=actor,
        action="notify.notification.retry",
        object_type="notification",
        object_id=notification.pk,
        area_path=notification.area_path,
        detail={"kind": notification.kind, "channel": notification.channel},
    )
    _enqueue_after_commit()
    notification.refresh_from_db()
    return notification


def messages_mark_read(*, user_id: int, ids: Sequence[int], now: datetime | None = None) -> int:
    """Mark the user's own messages read (others' ids are ignored); answers how many changed."""
    now = now or clock.now()
    return Notification.objects.for_user(user_id).filter(pk__in=list(ids), read_at__isnull=True).update(read_at=now)
