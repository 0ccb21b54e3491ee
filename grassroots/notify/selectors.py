"""Reads of a user's in-app messages (我的消息)."""

from __future__ import annotations

from django.db.models import QuerySet

from grassroots.notify.models import Notification


def unread_count(*, user_id: int) -> int:
    return Notification.objects.for_user(user_id).filter(read_at__isnull=True).count()


def messages_for(*, user_id: int) -> QuerySet[Notification]:
    """The user's own messages, newest first (never anyone else's)."""
    return Notification.objects.for_user(user_id).order_by("-created_at", "-id")
