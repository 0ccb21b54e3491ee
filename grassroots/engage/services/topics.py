"""Writes of the deliberation loop before the meeting: settings, proposals, supports, comments,
manual steps, then the reviews that close it.

Every write takes the topic's row lock, checks the step in ``workflow.TRANSITIONS``, appends a
``TopicEvent`` and an audit entry in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import F

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.engage.models import (
    Comment,
    DeliberationSetting,
    Invitee,
    Review,
    ReviewRating,
    Support,
    Topic,
)
from grassroots.engage.selectors.scopes import PROPOSE, RUN, community_of, resident_community, run_scope, topic_scope
from grassroots.engage.services._common import event, role_of
from grassroots.engage.services.photos import topic_photo_add
from grassroots.engage.workflow import (
    DEFAULT_REVIEW_DAYS,
    DEFAULT_SUPPORT_THRESHOLD,
    MAX_PHOTOS,
    Actor,
    Step,
    TopicFlowError,
    TopicState,
    next_state,
    reaches_threshold,
)
from grassroots.notify.services import notify
from grassroots.places.models import Area, AreaLevel, Building

Upload = tuple[IO[bytes], str, int | None]  # file, name, size


def _flow(error: TopicFlowError) -> DomainError:
    if error.code == "role_not_allowed":
        return Forbidden(error.message)
    return DomainError(error.message, code=error.code, field="reason" if error.code == "reason_required" else None)


# --- settings --------------------------------------------------------------------------------


def setting_for(area: Area) -> tuple[int, int]:
    """(support threshold, review days) from the nearest setting at or above ``area``."""
    row = (
        DeliberationSetting.objects.filter(path__in=[*area.ancestor_paths(), area.path])
        .order_by("-path")
        .values_list("support_threshold", "review_days")
        .first()
    )
    return row if row is not None else (DEFAULT_SUPPORT_THRESHOLD, DEFAULT_REVIEW_DAYS)


@transaction.atomic
def setting_save(*, actor: Any, area: Area, support_threshold: int, review_days: int) -> DeliberationSetting:
    if not can(actor, RUN) or not run_scope(actor).covers_path(area.path):
        raise NotFound()
    if area.level not in (AreaLevel.COMMUNITY, AreaLevel.GRID, AreaLevel.SUBDISTRICT):
        raise DomainError("只能为街道、社区或网格设置议事规则。", field="area")
    if not 1 <= support_threshold <= 1000:
        raise DomainError("附议门槛应在 1 到 1000 人之间。", field="support_threshold")
    if not 1 <= review_days <= 90:
        raise DomainError("评议期应在 1 到 90 天之间。", field="review_days")
    row, _ = DeliberationSetting.objects.update_or_create(
        area=area,
        defaults={
            "path": area.path,
            "support_threshold": support_threshold,
            "review_days": review_days,
            "updated_by": actor,
            "updated_at": clock.now(),
        },
    )
    audit_record(
        actor=actor_of(actor),
        action="engage.setting.save",
        object_type="deliberation_setting",
        object_id=row.pk,
        area_path=area.path,
        detail={"support_threshold": support_threshold, "review_days": review_days},
    )
    return row


# --- propose ---------------------------------------------------------------------------------


def _place(actor: Any, *, area: Area | None, building: Building | None, lon: float | None, lat: float | None) -> Area:
    """The topic's area (a grid where one is known, else the community), checked against the actor."""
    if building is not None:
        area = building.grid
    if area is None:
        area = resident_community(actor)
    if area is None:
        raise DomainError("请选择议题所在的社区或网格。", field="area")
    community = community_of(area)
    if community is None:
        raise DomainError("议题须属于某个社区或网格。", field="area")
    if role_of(actor) == "staff":
        if not can(actor, PROPOSE):
            raise Forbidden("您的角色不能提出议题。")
        if not scope_for(actor, PROPOSE).covers_path(area.path):
            raise Forbidden("该地点不在您的管辖范围内。")
    else:
        own = resident_community(actor)
        if own is None or own.pk != community.pk:
            raise Forbidden("只能就本社区的事提出议题。")
    if (lon is None) != (lat is None):
        raise DomainError("位置坐标不完整。", field="location")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise DomainError("位置坐标无效。", field="location")
    return area


@transaction.atomic
def topic_propose(
    *,
    actor: Any,
    title: str,
    description: str,
    area: Area | None = None,
    building: Building | None = None,
    lon: float | None = None,
    lat: float | None = None,
    place_text: str = "",
    photos: Sequence[Upload] = (),
    now: datetime | None = None,
) -> Topic:
    """居民提事: a resident (in their community) or a worker (in their scope) raises a topic."""
    now = now or clock.now()
    title, description = title.strip(), description.strip()
    if not title or len(title) > 100:
        raise DomainError("请填写议题标题（不超过100字）。", field="title")
    if not description:
        raise DomainError("请说明议题的具体内容。", field="description")
    if len(photos) > MAX_PHOTOS:
        raise DomainError(f"照片最多{MAX_PHOTOS}张。", code="too_many_photos", field="photos")
    if role_of(actor) == "resident" and resident_community(actor) is None:
        raise Forbidden("您的账号未登记所在社区，不能提出议题。")
    where = _place(actor, area=area, building=building, lon=lon, lat=lat)
    if building is not None and lon is None:
        lon, lat = building.lon, building.lat
    threshold, _ = setting_for(where)
    topic = Topic.objects.create(
        title=title,
        description=description,
        area=where,
        path=where.path,
        building=building,
        lon=lon,
        lat=lat,
        place_text=place_text.strip()[:200],
        proposer=actor,
        proposed_by_staff=role_of(actor) == "staff",
        threshold=threshold,
        created_at=now,
        updated_at=now,
    )
    for upload, name, size in photos:
        topic_photo_add(actor=actor, topic=topic, upload=upload, name=name, size=size)
    event(
        topic,
        at=now,
        actor=actor,
        action="propose",
        to_state=TopicState.proposed.value,
        note=description,
        payload={"photos": len(photos), "threshold": threshold},
    )
    audit_record(
        actor=actor_of(actor),
        action="engage.topic.propose",
        object_type="topic",
        object_id=topic.pk,
        area_path=topic.path,
        detail={"title": title},
        at=now,
    )
    return topic


def _locked(actor: Any, topic_id: int) -> Topic:
    topic = Topic.objects.select_for_update().filter(pk=topic_id).first()
    if topic is None or not topic_scope(actor).covers_path(topic.path):
        raise NotFound()
    return topic


def _move(topic: Topic, *, actor: Any, step: Step, who: Actor, now: datetime, reason: str = "", **payload: Any) -> None:
    try:
        target = next_state(TopicState(topic.state), step, who, reason=reason)
    except TopicFlowError as error:
        raise _flow(error) from None
    before = topic.state
    topic.state = target.value
    topic.updated_at = now
    if target is TopicState.closed or target in (TopicState.dismissed, TopicState.withdrawn, TopicState.not_adopted):
        topic.closed_at = now
    topic.save(update_fields=["state", "updated_at", "closed_at", "review_until"])
    event(
        topic,
        at=now,
        actor=actor,
        action=step.value,
        from_state=before,
        to_state=target.value,
        note=reason.strip(),
        payload=payload,
    )
    audit_record(
        actor=actor_of(actor),
        action=f"engage.topic.{step.value}",
        object_type="topic",
        object_id=topic.pk,
        area_path=topic.path,
        detail={"from": before, "to": target.value},
        at=now,
    )


# --- support and comment ---------------------------------------------------------------------


@transaction.atomic
def topic_support(*, actor: Any, topic_id: int, now: datetime | None = None) -> Topic:
    """附议, once per person; reaching the area's threshold moves the topic to discussion."""
    now = now or clock.now()
    topic = _locked(actor, topic_id)
    if topic.state != TopicState.proposed.value:
        raise DomainError(f"议题当前为“{topic.state_label}”，已不再征集附议。", code="not_open")
    if topic.proposer_id == actor.pk:
        raise DomainError("不能附议自己提出的议题。", code="own_topic")
    try:
        with transaction.atomic():
            Support.objects.create(topic=topic, user=actor, at=now)
    except IntegrityError:
        raise DomainError("您已附议过该议题。", code="already_supported") from None
    Topic.objects.filter(pk=topic.pk).update(support_count=F("support_count") + 1, updated_at=now)
    topic.refresh_from_db(fields=["support_count", "updated_at"])
    event(topic, at=now, actor=actor, action="support", payload={"count": topic.support_count})
    if reaches_threshold(topic.support_count, topic.threshold):
        _move(topic, actor=None, step=Step.threshold, who=Actor.system, now=now, supports=topic.support_count)
        _announce(topic, "engage.discussing", f"议题“{topic.title}”附议已达{topic.threshold}人，转入议事", now)
    return topic


def _announce(topic: Topic, kind: str, subject: str, now: datetime) -> None:
    if topic.proposer_id is None:
        return
    notify(
        recipients=[topic.proposer_id],
        kind=kind,
        subject=subject,
        body=subject,
        idempotency_key=f"topic:{topic.pk}:{kind}",
        payload={"topic": topic.pk},
        area_path=topic.path,
    )


@transaction.atomic
def topic_comment(*, actor: Any, topic_id: int, body: str, now: datetime | None = None) -> Comment:
    now = now or clock.now()
    body = body.strip()
    if not body or len(body) > 1000:
        raise DomainError("请填写评论（不超过1000字）。", field="body")
    topic = _locked(actor, topic_id)
    if TopicState(topic.state) in (TopicState.closed, TopicState.dismissed, TopicState.withdrawn):
        raise DomainError("该议题已结束，不能再评论。", code="closed")
    comment = Comment.objects.create(topic=topic, author=actor, by_staff=role_of(actor) == "staff", body=body, at=now)
    Topic.objects.filter(pk=topic.pk).update(comment_count=F("comment_count") + 1)
    event(topic, at=now, actor=actor, action="comment", note=body)
    return comment


# --- manual steps ----------------------------------------------------------------------------


@transaction.atomic
def topic_step(*, actor: Any, topic_id: int, step: Step, reason: str = "", now: datetime | None = None) -> Topic:
    """A person's step: staff move a topic to discussion or dismiss it; the proposer withdraws it."""
    now = now or clock.now()
    topic = _locked(actor, topic_id)
    if step in (Step.to_discussion, Step.dismiss):
        if not run_scope(actor).covers_path(topic.path):
            raise Forbidden("只有本社区的工作人员可以执行此操作。")
        who = Actor.staff
    elif step is Step.withdraw:
        if topic.proposer_id != actor.pk:
            raise Forbidden("只有提出人可以撤回议题。")
        who = Actor.staff if role_of(actor) == "staff" else Actor.resident
    else:
        raise DomainError("该操作不能在此执行。")
    _move(topic, actor=actor, step=step, who=who, now=now, reason=reason)
    return topic


# --- review and close ------------------------------------------------------------------------


def may_review(user: Any, topic: Topic) -> bool:
    """Those who proposed, supported or attended a meeting on the topic review it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if topic.proposer_id == user.pk:
        return True
    if Support.objects.filter(topic=topic, user=user).exists():
        return True
    return Invitee.objects.filter(meeting__agenda__topic=topic, user=user, attended=True).exists()


@transaction.atomic
def topic_review(*, actor: Any, topic_id: int, rating: str, comment: str = "", now: datetime | None = None) -> Review:
    now = now or clock.now()
    topic = _locked(actor, topic_id)
    if topic.state != TopicState.reviewing.value:
        raise DomainError(f"议题当前为“{topic.state_label}”，不在评议期。", code="not_reviewing")
    if topic.review_until is not None and now > topic.review_until:
        raise DomainError("评议期已结束。", code="review_over")
    if rating not in ReviewRating.values:
        raise DomainError("请选择评价。", field="rating")
    if not may_review(actor, topic):
        raise Forbidden("只有提出、附议或参加议事的居民可以评议。")
    try:
        with transaction.atomic():
            review = Review.objects.create(topic=topic, user=actor, rating=rating, comment=comment.strip(), at=now)
    except IntegrityError:
        raise DomainError("您已评议过该议题。", code="already_reviewed") from None
    event(
        topic,
        at=now,
        actor=actor,
        action="review",
        note=comment.strip(),
        payload={"rating": rating},
    )
    return review


def _review_summary(topic: Topic) -> dict[str, int]:
    counts = dict.fromkeys(ReviewRating.values, 0)
    for rating in Review.objects.filter(topic=topic).values_list("rating", flat=True):
        counts[rating] += 1
    return counts


@transaction.atomic
def topic_close(*, actor: Any, topic_id: int, now: datetime | None = None) -> Topic:
    """Staff end the review early (e.g. everyone has reviewed)."""
    now = now or clock.now()
    topic = _locked(actor, topic_id)
    if not run_scope(actor).covers_path(topic.path):
        raise Forbidden("只有本社区的工作人员可以结束评议。")
    _move(topic, actor=actor, step=Step.close, who=Actor.staff, now=now, reviews=_review_summary(topic))
    return topic


def topics_close_due(*, now: datetime | None = None) -> int:
    """Close every topic whose review period has ended (the periodic sweep); idempotent."""
    now = now or clock.now()
    closed = 0
    for topic_id in Topic.objects.filter(state=TopicState.reviewing.value, review_until__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            topic = Topic.objects.select_for_update().get(pk=topic_id)
            if topic.state != TopicState.reviewing.value:
                continue
            _move(topic, actor=None, step=Step.close, who=Actor.system, now=now, reviews=_review_summary(topic))
            closed += 1
    return closed


def review_window(topic: Topic, now: datetime) -> datetime:
    _, days = setting_for(topic.area)
    return now + timedelta(days=days)
