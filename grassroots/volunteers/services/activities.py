"""Volunteer activities: create, cancel, sign up (capacity held under concurrency), withdraw, attendance.

Recording a party member's attendance adds a service record through the party services, with
``source="activity:<id>"`` so recording it again adds nothing; an activity that ``solves_problem``
counts as a practical problem solved (解决实际问题), any other as a volunteer service.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from grassroots.audit.services import audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.party.models import PartyMember, ServiceKind
from grassroots.party.services import service_record_add
from grassroots.places.models import Area
from grassroots.registry.models import Person
from grassroots.volunteers.models import Activity, Signup, SignupState, Skill, Team
from grassroots.volunteers.services._common import audit_actor, manage_scope, require_path

TAKING_PLACES = (SignupState.SIGNED_UP, SignupState.ATTENDED)


def activity_hours(activity: Activity) -> Decimal:
    """The activity's length in hours, to one decimal (the most anyone can be credited)."""
    seconds = (activity.ends_at - activity.starts_at).total_seconds()
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.1"))


@transaction.atomic
def activity_create(
    *,
    actor: Any,
    title: str,
    area: Area,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int = 0,
    skill: Skill | None = None,
    team: Team | None = None,
    solves_problem: bool = False,
    description: str = "",
) -> Activity:
    scope = manage_scope(actor)
    require_path(scope, area.path)
    title = title.strip()
    if not title or len(title) > 100:
        raise DomainError("活动名称不能为空，且不超过100个字。", field="title")
    if not place.strip():
        raise DomainError("请填写活动地点。", field="place")
    if ends_at <= starts_at:
        raise DomainError("结束时间应晚于开始时间。", field="ends_at")
    if (ends_at - starts_at).total_seconds() > 24 * 3600:
        raise DomainError("单次活动不超过24小时，多日活动请分场次创建。", field="ends_at")
    if capacity < 0:
        raise DomainError("名额不能为负数（0 表示不限）。", field="capacity")
    if team is not None:
        require_path(scope, team.path)
        if team.dissolved_on is not None:
            raise DomainError("该队伍已解散。", field="team")
    user = actor if getattr(actor, "is_authenticated", False) else None
    activity = Activity.objects.create(
        title=title,
        description=description.strip(),
        area=area,
        path=area.path,
        place=place.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        skill=skill,
        team=team,
        solves_problem=solves_problem,
        created_by=user,
        created_at=clock.now(),
    )
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.activity.create",
        object_type="activity",
        object_id=activity.pk,
        area_path=activity.path,
        detail={"title": title, "capacity": capacity, "starts_at": starts_at.isoformat()},
    )
    return activity


@transaction.atomic
def activity_cancel(*, actor: Any, activity: Activity, reason: str) -> Activity:
    scope = manage_scope(actor)
    require_path(scope, activity.path)
    if not reason.strip():
        raise DomainError("请填写取消原因。", field="reason")
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.cancelled:
        raise DomainError("该活动已取消。")
    if Signup.objects.filter(activity=activity, state=SignupState.ATTENDED).exists():
        raise DomainError("已有人签到的活动不能取消。")
    activity.cancelled = True
    activity.save(update_fields=["cancelled"])
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.activity.cancel",
        object_type="activity",
        object_id=activity.pk,
        area_path=activity.path,
        detail={"reason": reason.strip()[:200]},
    )
    return activity


def signup_add(*, actor: Any, activity: Activity, person: Person) -> Signup:
    """Sign ``person`` up; the activity row is locked so two sign-ups never both take the last place."""
    scope = manage_scope(actor)
    require_path(scope, activity.path)
    require_path(scope, person.path)
    now = clock.now()
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.cancelled:
            raise DomainError("该活动已取消，不能报名。")
        if activity.ends_at <= now:
            raise DomainError("该活动已结束，不能报名。")
        existing = Signup.objects.filter(activity=activity, person=person).first()
        if existing is not None and existing.state != SignupState.WITHDRAWN:
            raise DomainError(f"{person.name} 已报名该活动。", field="person")
        if activity.capacity:
            taken = Signup.objects.filter(activity=activity, state__in=TAKING_PLACES).count()
            if taken >= activity.capacity:
                raise DomainError(f"名额已满（共 {activity.capacity} 人）。")
        if existing is not None:
            existing.state = SignupState.SIGNED_UP
            existing.signed_up_at = now
            existing.hours = Decimal(0)
            existing.save(update_fields=["state", "signed_up_at", "hours"])
            signup = existing
        else:
            signup = Signup.objects.create(activity=activity, person=person, signed_up_at=now, path=activity.path)
        audit_record(
            actor=audit_actor(actor),
            action="volunteers.signup.add",
            object_type="signup",
            object_id=signup.pk,
            area_path=signup.path,
            detail={"activity": activity.pk, "person": person.pk},
        )
    return signup


@transaction.atomic
def signup_withdraw(*, actor: Any, signup: Signup) -> Signup:
    scope = manage_scope(actor)
    require_path(scope, signup.path)
    signup = Signup.objects.select_for_update().select_related("activity").get(pk=signup.pk)
    if signup.state != SignupState.SIGNED_UP:
        raise DomainError(f"当前状态为“{signup.get_state_display()}”，不能取消报名。")
    signup.state = SignupState.WITHDRAWN
    signup.save(update_fields=["state"])
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.signup.withdraw",
        object_type="signup",
        object_id=signup.pk,
        area_path=signup.path,
        detail={"activity": signup.activity_id},
    )
    return signup


def _parse_hours(hours: Decimal | float | int | str) -> Decimal:
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError("服务时长应为数字。", field="hours") from exc
    return value


@transaction.atomic
def attendance_record(
    *, actor: Any, signup: Signup, attended: bool = True, hours: Decimal | float | int | str | None = None
) -> Signup:
    """Mark a sign-up attended (with hours, at most the activity's length) or absent.

    A party member's attendance becomes a confirmed service record at the activity's community.
    """
    scope = manage_scope(actor)
    require_path(scope, signup.path)
    signup = Signup.objects.select_for_update().select_related("activity", "person").get(pk=signup.pk)
    activity = signup.activity
    now = clock.now()
    if activity.cancelled:
        raise DomainError("该活动已取消。")
    if activity.starts_at > now:
        raise DomainError("活动尚未开始，不能登记签到。")
    if signup.state == SignupState.WITHDRAWN:
        raise DomainError("该报名已取消。")
    length = activity_hours(activity)
    value = length if hours is None or hours == "" else _parse_hours(hours)
    if attended and (value <= 0 or value > length):
        raise DomainError(f"服务时长应大于 0 且不超过活动时长 {length} 小时。", field="hours")
    signup.state = SignupState.ATTENDED if attended else SignupState.ABSENT
    signup.hours = value if attended else Decimal(0)
    signup.attended_at = now if attended else None
    signup.save(update_fields=["state", "hours", "attended_at"])
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.signup.attendance",
        object_type="signup",
        object_id=signup.pk,
        area_path=signup.path,
        detail={"activity": activity.pk, "attended": attended, "hours": str(signup.hours)},
    )
    if attended:
        member = PartyMember.objects.filter(person_id=signup.person_id, is_active=True).first()
        if member is not None:
            on = timezone.localdate(activity.starts_at)
            service_record_add(
                actor=actor,
                member=member,
                kind=ServiceKind.PROBLEM if activity.solves_problem else ServiceKind.VOLUNTEER,
                on=on,
                description=f"志愿活动：{activity.title}",
                path=activity.path,
                hours=signup.hours,
                source=f"activity:{activity.pk}",
                confirmed=True,
            )
    return signup
