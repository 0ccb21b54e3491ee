"""Reads of deliberation and notices, each starting from the user's scope (out of scope: NotFound)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from grassroots.accounts.scopes import can
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.engage.models import (
    Action,
    Meeting,
    Notice,
    NoticeAudience,
    NoticeRead,
    NoticeState,
    Support,
    Topic,
    TopicEvent,
)
from grassroots.engage.selectors.scopes import READ, RUN, is_staff, resident_community, run_scope, topic_scope
from grassroots.party.models import Checkin, CheckinState


def topics_for(user: Any) -> QuerySet[Topic]:
    """Topics the user may see, with ``supported`` (by the user) annotated; one query per page."""
    return (
        Topic.objects.filter(topic_scope(user).path_q("path"))
        .select_related("area")
        .annotate(supported=Exists(Support.objects.filter(topic=OuterRef("pk"), user_id=user.pk)))
    )


def topic_get(*, user: Any, topic_id: int) -> Topic:
    topic = topics_for(user).select_related("building", "proposer").filter(pk=topic_id).first()
    if topic is None:
        raise NotFound()
    return topic


def topic_history(topic: Topic) -> list[TopicEvent]:
    return list(TopicEvent.objects.filter(topic=topic).order_by("at", "id"))


def topic_actions(topic: Topic) -> list[Action]:
    return list(Action.objects.filter(topic=topic).select_related("case", "project").order_by("deadline", "id"))


def meetings_for(user: Any) -> QuerySet[Meeting]:
    scope = run_scope(user) if can(user, RUN) else topic_scope(user) if can(user, READ) else None
    if scope is None:
        return Meeting.objects.none()
    return Meeting.objects.filter(scope.path_q("path")).select_related("area")


def meeting_get(*, user: Any, meeting_id: int) -> Meeting:
    meeting = meetings_for(user).filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound()
    return meeting


# --- notices ---------------------------------------------------------------------------------


def audiences_for(user: Any) -> set[str]:
    """Which audiences a resident belongs to: everyone, and party members with a confirmed check-in."""
    found = {NoticeAudience.RESIDENTS.value}
    if Checkin.objects.filter(requested_by=user, state=CheckinState.CONFIRMED).exists():
        found.add(NoticeAudience.PARTY_MEMBERS.value)
    return found


def resident_notices(user: Any, *, now: datetime | None = None) -> QuerySet[Notice]:
    """Published, unexpired notices for the resident's community (or an area above it), pinned and newest first."""
    now = now or clock.now()
    community = resident_community(user)
    if community is None:
        return Notice.objects.none()
    paths = [*community.ancestor_paths(), community.path]
    return (
        Notice.objects.filter(Q(path__in=paths) | Q(path__path_startswith=community.path + "."))
        .filter(state=NoticeState.PUBLISHED, audience__in=audiences_for(user))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .annotate(read=Exists(NoticeRead.objects.filter(notice=OuterRef("pk"), user_id=user.pk)))
        .select_related("area")
        .order_by("-pinned", "-published_at", "-id")
    )


def resident_notice_get(*, user: Any, notice_id: int, now: datetime | None = None) -> Notice:
    notice = resident_notices(user, now=now).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound()
    return notice


def staff_notices(user: Any) -> QuerySet[Notice]:
    if not is_staff(user):
        return Notice.objects.none()
    return Notice.objects.filter(topic_scope(user).path_q("path")).select_related("area", "created_by")


def staff_notice_get(*, user: Any, notice_id: int) -> Notice:
    notice = staff_notices(user).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound()
    return notice
