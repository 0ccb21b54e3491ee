"""Skills, volunteers and talents (社区能人), and teams (志愿服务队, 先锋队, 行动支部)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from grassroots.audit.services import SYSTEM, Actor, audit_record
from grassroots.core.errors import DomainError
from grassroots.places.models import Area
from grassroots.registry.models import Person
from grassroots.volunteers.models import Skill, Team, TeamKind, Volunteer
from grassroots.volunteers.services._common import audit_actor, manage_scope, require_path, today

# The default list of kinds of help, in the order pages show them.
DEFAULT_SKILLS: list[tuple[str, str]] = [
    ("legal", "法律"),
    ("medical", "医疗"),
    ("elder_care", "养老照护"),
    ("repair", "维修"),
    ("culture", "文化"),
    ("psychological", "心理"),
    ("education", "教育"),
    ("rescue", "应急救援"),
    ("sports", "文体"),
    ("it", "信息技术"),
    ("translation", "翻译"),
    ("companionship", "陪伴关爱"),
    ("cleaning", "环境保洁"),
    ("mediation", "矛盾调解"),
]


@transaction.atomic
def skill_seed(*, actor: Actor = SYSTEM) -> int:
    """Create the default skills that are missing (names of existing codes are left alone)."""
    existing = set(Skill.objects.values_list("code", flat=True))
    created = [
        Skill(code=code, name=name, sort=(i + 1) * 10)
        for i, (code, name) in enumerate(DEFAULT_SKILLS)
        if code not in existing
    ]
    Skill.objects.bulk_create(created)
    if created:
        audit_record(
            actor=actor,
            action="volunteers.skill.seed",
            object_type="skill",
            detail={"codes": [s.code for s in created]},
        )
    return len(created)


def _check_hours(weekly_hours: int) -> None:
    if weekly_hours < 0 or weekly_hours > 80:
        raise DomainError("每周可服务时长应在 0 到 80 小时之间。", field="weekly_hours")


def _check_note(is_talent: bool, talent_note: str) -> str:
    note = talent_note.strip()
    if len(note) > 200:
        raise DomainError("专长说明不超过200个字。", field="talent_note")
    if is_talent and not note:
        raise DomainError("登记社区能人时请填写专长说明。", field="talent_note")
    return note


def volunteer_register(
    *,
    actor: Any,
    person: Person,
    skills: Iterable[Skill] = (),
    is_talent: bool = False,
    talent_note: str = "",
    weekly_hours: int = 2,
    registered_on: date | None = None,
) -> Volunteer:
    """Register a person of the registry as a volunteer (once; a lapsed one is re-activated)."""
    scope = manage_scope(actor)
    require_path(scope, person.path)
    _check_hours(weekly_hours)
    note = _check_note(is_talent, talent_note)
    skill_list = list(skills)
    with transaction.atomic():
        existing = Volunteer.objects.select_for_update().filter(person=person).first()
        if existing is not None and existing.is_active:
            raise DomainError(f"{person.name} 已登记为志愿者。", field="person")
        if existing is not None:
            volunteer = existing
            volunteer.is_active = True
            volunteer.is_talent = is_talent
            volunteer.talent_note = note
            volunteer.weekly_hours = weekly_hours
            volunteer.path = person.path
            volunteer.save()
        else:
            try:
                with transaction.atomic():
                    volunteer = Volunteer.objects.create(
                        person=person,
                        is_talent=is_talent,
                        talent_note=note,
                        weekly_hours=weekly_hours,
                        registered_on=registered_on or today(),
                        path=person.path,
                    )
            except IntegrityError as exc:
                raise DomainError(f"{person.name} 已登记为志愿者。", field="person") from exc
        volunteer.skills.set(skill_list)
        audit_record(
            actor=audit_actor(actor),
            action="volunteers.volunteer.register",
            object_type="volunteer",
            object_id=volunteer.pk,
            area_path=volunteer.path,
            detail={"person": person.pk, "skills": [s.code for s in skill_list], "talent": is_talent},
        )
    return volunteer


@transaction.atomic
def volunteer_update(
    *,
    actor: Any,
    volunteer: Volunteer,
    skills: Iterable[Skill],
    is_talent: bool,
    talent_note: str,
    weekly_hours: int,
    is_active: bool = True,
) -> Volunteer:
    scope = manage_scope(actor)
    require_path(scope, volunteer.path)
    _check_hours(weekly_hours)
    note = _check_note(is_talent, talent_note)
    skill_list = list(skills)
    volunteer.is_talent = is_talent
    volunteer.talent_note = note
    volunteer.weekly_hours = weekly_hours
    volunteer.is_active = is_active
    volunteer.save(update_fields=["is_talent", "talent_note", "weekly_hours", "is_active"])
    volunteer.skills.set(skill_list)
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.volunteer.update",
        object_type="volunteer",
        object_id=volunteer.pk,
        area_path=volunteer.path,
        detail={"skills": [s.code for s in skill_list], "talent": is_talent, "active": is_active},
    )
    return volunteer


# --- teams -------------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    area: Area,
    leader: Person | None = None,
    formed_on: date | None = None,
) -> Team:
    scope = manage_scope(actor)
    require_path(scope, area.path)
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("队伍名称不能为空，且不超过100个字。", field="name")
    if kind not in TeamKind.values:
        raise DomainError(f"未知的队伍类别“{kind}”。", field="kind")
    if Team.objects.filter(area=area, name=name, dissolved_on__isnull=True).exists():
        raise DomainError(f"{area.name} 已有名为“{name}”的队伍。", field="name")
    if leader is not None:
        require_path(scope, leader.path)
    team = Team.objects.create(
        name=name, kind=kind, area=area, path=area.path, leader=leader, formed_on=formed_on or today()
    )
    if leader is not None:
        team.members.add(leader)
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.team.create",
        object_type="team",
        object_id=team.pk,
        area_path=team.path,
        detail={"name": name, "kind": kind, "leader": leader.pk if leader else None},
    )
    return team


def _open_team(scope: Any, team: Team) -> None:
    require_path(scope, team.path)
    if team.dissolved_on is not None:
        raise DomainError("该队伍已解散。")


@transaction.atomic
def team_member_add(*, actor: Any, team: Team, person: Person, as_leader: bool = False) -> Team:
    scope = manage_scope(actor)
    _open_team(scope, team)
    require_path(scope, person.path)
    already = team.members.filter(pk=person.pk).exists()
    if already and not as_leader:
        raise DomainError(f"{person.name} 已是该队伍队员。", field="person")
    team.members.add(person)
    if as_leader:
        team.leader = person
        team.save(update_fields=["leader"])
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.team.member_add",
        object_type="team",
        object_id=team.pk,
        area_path=team.path,
        detail={"person": person.pk, "leader": as_leader},
    )
    return team


@transaction.atomic
def team_member_remove(*, actor: Any, team: Team, person: Person) -> Team:
    scope = manage_scope(actor)
    _open_team(scope, team)
    if not team.members.filter(pk=person.pk).exists():
        raise DomainError(f"{person.name} 不是该队伍队员。", field="person")
    team.members.remove(person)
    if team.leader_id == person.pk:
        team.leader = None
        team.save(update_fields=["leader"])
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.team.member_remove",
        object_type="team",
        object_id=team.pk,
        area_path=team.path,
        detail={"person": person.pk},
    )
    return team


@transaction.atomic
def team_dissolve(*, actor: Any, team: Team, on: date | None = None) -> Team:
    scope = manage_scope(actor)
    _open_team(scope, team)
    on = on or today()
    if on < team.formed_on:
        raise DomainError("解散日期不能早于成立日期。", field="dissolved_on")
    team.dissolved_on = on
    team.save(update_fields=["dissolved_on"])
    audit_record(
        actor=audit_actor(actor),
        action="volunteers.team.dissolve",
        object_type="team",
        object_id=team.pk,
        area_path=team.path,
        detail={"on": on.isoformat()},
    )
    return team
