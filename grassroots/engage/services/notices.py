"""Notices (公告): written by staff who run deliberation in their area, read by residents.

A resident opening a published notice records one read (``NoticeRead`` is unique per person);
``read_count`` is bumped in the same transaction only when that row is new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from grassroots.audit.services import actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage.models import Notice, NoticeAudience, NoticeKind, NoticeRead, NoticeState
from grassroots.engage.selectors.scopes import run_scope
from grassroots.places.models import Area


def _check(title: str, body: str, kind: str, audience: str, expires_at: datetime | None, now: datetime) -> None:
    if not title.strip() or len(title.strip()) > 100:
        raise DomainError("请填写标题（不超过100字）。", field="title")
    if not body.strip():
        raise DomainError("请填写正文。", field="body")
    if kind not in NoticeKind.values:
        raise DomainError("请选择公告类别。", field="kind")
    if audience not in NoticeAudience.values:
        raise DomainError("请选择发布对象。", field="audience")
    if expires_at is not None and expires_at <= now:
        raise DomainError("有效期须晚于现在。", field="expires_at")


def _locked(actor: Any, notice_id: int) -> Notice:
    notice = Notice.objects.select_for_update().filter(pk=notice_id).first()
    if notice is None or not run_scope(actor).covers_path(notice.path):
        raise NotFound()
    return notice


@transaction.atomic
def notice_save(
    *,
    actor: Any,
    area: Area,
    title: str,
    body: str,
    kind: str,
    audience: str,
    pinned: bool = False,
    expires_at: datetime | None = None,
    notice_id: int | None = None,
    publish: bool = False,
    now: datetime | None = None,
) -> Notice:
    """Create (``notice_id`` None) or edit a notice; ``publish`` publishes it at once."""
    now = now or clock.now()
    if not run_scope(actor).covers_path(area.path):
        raise NotFound()
    _check(title, body, kind, audience, expires_at, now)
    notice = Notice(created_by=actor, created_at=now) if notice_id is None else _locked(actor, notice_id)
    notice.area, notice.path = area, area.path
    notice.title, notice.body = title.strip(), body.strip()
    notice.kind, notice.audience, notice.pinned, notice.expires_at = kind, audience, pinned, expires_at
    notice.updated_at = now
    if publish and notice.state != NoticeState.PUBLISHED:
        notice.state, notice.published_at = NoticeState.PUBLISHED, now
    notice.save()
    audit_record(
        actor=actor_of(actor),
        action="engage.notice.save",
        object_type="notice",
        object_id=notice.pk,
        area_path=notice.path,
        detail={"title": notice.title, "state": notice.state},
        at=now,
    )
    return notice


@transaction.atomic
def notice_publish(*, actor: Any, notice_id: int, now: datetime | None = None) -> Notice:
    now = now or clock.now()
    notice = _locked(actor, notice_id)
    if notice.state == NoticeState.PUBLISHED:
        raise DomainError("该公告已发布。")
    if notice.expires_at is not None and notice.expires_at <= now:
        raise DomainError("该公告已过有效期，请先修改有效期。", field="expires_at")
    notice.state, notice.published_at, notice.updated_at = NoticeState.PUBLISHED, now, now
    notice.save(update_fields=["state", "published_at", "updated_at"])
    audit_record(
        actor=actor_of(actor),
        action="engage.notice.publish",
        object_type="notice",
        object_id=notice.pk,
        area_path=notice.path,
        at=now,
    )
    return notice


@transaction.atomic
def notice_withdraw(*, actor: Any, notice_id: int, now: datetime | None = None) -> Notice:
    now = now or clock.now()
    notice = _locked(actor, notice_id)
    if notice.state != NoticeState.PUBLISHED:
        raise DomainError("只有已发布的公告可以撤回。")
    notice.state, notice.updated_at = NoticeState.WITHDRAWN, now
    notice.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor_of(actor),
        action="engage.notice.withdraw",
        object_type="notice",
        object_id=notice.pk,
        area_path=notice.path,
        at=now,
    )
    return notice


@transaction.atomic
def notice_read(*, actor: Any, notice: Notice, now: datetime | None = None) -> bool:
    """Record that ``actor`` opened ``notice`` (the selector has checked they may); True the first time."""
    try:
        with transaction.atomic():
            NoticeRead.objects.create(notice=notice, user=actor, at=now or clock.now())
    except IntegrityError:
        return False
    Notice.objects.filter(pk=notice.pk).update(read_count=F("read_count") + 1)
    return True
