"""The notification outbox and its delivery log.

A ``Notification`` row is written in the transaction of the change it announces, so it
exists exactly when the change does; a task then delivers it (see ``tasks.py``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q

from grassroots.core.scope import Scope


class Status(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败，等待重试"  # a retryable failure; next_attempt_at says when
    DEAD = "dead", "发送失败，已放弃"  # permanent failure or attempts exhausted: an operator must look


class ChannelName(models.TextChoices):
    CONSOLE = "console", "站内（控制台）"
    SMS = "sms", "短信"
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def due(self, *, now: datetime, stale_before: datetime) -> NotificationQuerySet:
        """Rows a sweep may claim: waiting and due, or stuck in "sending" since before ``stale_before``."""
        waiting = Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
        stuck = Q(status=Status.SENDING, claimed_at__lt=stale_before)
        return self.filter(waiting | stuck)

    def for_user(self, user_id: int) -> NotificationQuerySet:
        return self.filter(user_id=user_id)

    def in_scope(self, scope: Scope) -> NotificationQuerySet:
        return self.filter(scope.path_q("area_path"))


class Notification(models.Model):
    """One message to one recipient over one channel (the outbox row).

    The recipient is a user id (no foreign key: ``accounts`` sits above ``notify``) and/or an
    address. Addresses are phone numbers, i.e. personal data: sealed with ``core.crypto``
    beside a keyed hash and a masked form, and the ciphertext is wiped once the message is sent.
    """

    idempotency_key = models.CharField(max_length=255, unique=True)
    channel = models.CharField(max_length=16, choices=ChannelName.choices)
    kind = models.CharField(max_length=80, db_index=True)  # e.g. "cases.overdue"
    subject = models.CharField(max_length=200)
    body = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    address_cipher = models.BinaryField(null=True, blank=True, editable=False)
    address_hash = models.CharField(max_length=64, blank=True, db_index=True)
    address_masked = models.CharField(max_length=64, blank=True)
    area_path = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # English, for operators; never contains the address
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)  # the recipient saw it in 我的消息

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "通知"
        verbose_name_plural = "通知"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notify_due_idx"),
            models.Index(fields=["user_id", "read_at"], name="notify_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind} #{self.pk} ({self.status})"


class Outcome(models.TextChoices):
    SENT = "sent", "成功"
    RETRY = "retry", "可重试的失败"
    PERMANENT = "permanent", "不可重试的失败"


class Delivery(models.Model):
    """One attempt to send a notification: what the channel answered and how long it took."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["notification_id", "attempt"]
        verbose_name = "投递记录"
        verbose_name_plural = "投递记录"

    def __str__(self) -> str:
        return f"#{self.notification_id} attempt {self.attempt}: {self.outcome}"
