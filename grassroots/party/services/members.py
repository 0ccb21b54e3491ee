"""Party members: each one a registry person, once; kind, organisation, employer and residence.

Party membership is sensitive personal data: only services write it, each write is audited,
and pages show names and masked IDs only.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import Checkin, CheckinState, MemberKind, PartyMember, PartyOrg
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Person, Unit


def community_of(area: Area) -> Area | None:
    """The community holding ``area`` (itself when it is one), or None above community level."""
    if area.level == AreaLevel.COMMUNITY:
        return area
    if area.level != AreaLevel.GRID:
        return None
    paths = area.ancestor_paths()
    return Area.objects.filter(path__in=paths, level=AreaLevel.COMMUNITY).first()


def _check_fields(
    scope: Scope, kind: str, org: PartyOrg | None, residence_area: Area | None, joined_on: date | None
) -> str:
    if kind not in MemberKind.values:
        raise DomainError(f"未知的党员类别“{kind}”。", field="kind")
    if org is not None and (not org.is_active or not scope.covers_path(org.path)):
        raise DomainError("所在党组织须为管辖范围内的有效组织。", field="org")
    if residence_area is not None and residence_area.level not in (AreaLevel.COMMUNITY, AreaLevel.GRID):
        raise DomainError("居住地应为社区或网格。", field="residence_area")
    if residence_area is None and org is None:
        raise DomainError("请至少填写所在党组织或居住地。", field="residence_area")
    if joined_on is not None and joined_on > clock.today():
        raise DomainError("入党日期不能晚于今天。", field="joined_on")
    path = residence_area.path if residence_area is not None else org.path  # type: ignore[union-attr]
    if not scope.covers_path(path):
        raise DomainError("居住地须在管辖范围内。", field="residence_area")
    return path


@transaction.atomic
def member_create(
    *,
    actor: Actor,
    scope: Scope,
    person: Person,
    kind: str,
    org: PartyOrg | None = None,
    employer: Unit | None = None,
    residence_area: Area | None = None,
    joined_on: date | None = None,
) -> PartyMember:
    """Register a registry person (in scope) as a party member; a person is a member once."""
    if not scope.covers_path(person.path):
        raise NotFound()
    if PartyMember.objects.filter(person=person).exists():
        raise DomainError(f"{person.name}已登记为党员。", field="person")
    path = _check_fields(scope, kind, org, residence_area, joined_on)
    now = clock.now()
    member = PartyMember.objects.create(
        person=person,
        kind=kind,
        org=org,
        employer=employer,
        residence_area=residence_area,
        joined_on=joined_on,
        path=path,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=actor,
        action="party.member.create",
        object_type="party_member",
        object_id=member.pk,
        area_path=path,
        detail={"person": person.pk, "kind": kind},
    )
    return member


@transaction.atomic
def member_update(
    *,
    actor: Actor,
    scope: Scope,
    member: PartyMember,
    kind: str,
    org: PartyOrg | None,
    employer: Unit | None,
    residence_area: Area | None,
    joined_on: date | None,
) -> PartyMember:
    """Change a member's details. Moving the residence out of the check-in's community ends it."""
    if not scope.covers_path(member.path):
        raise NotFound()
    if not member.is_active:
        raise DomainError("该党员已注销，不能修改。")
    path = _check_fields(scope, kind, org, residence_area, joined_on)
    changed = [
        f
        for f, v in (
            ("kind", kind),
            ("org_id", org.pk if org else None),
            ("employer_id", employer.pk if employer else None),
            ("residence_area_id", residence_area.pk if residence_area else None),
            ("joined_on", joined_on),
        )
        if getattr(member, f) != v
    ]
    member.kind, member.org, member.employer = kind, org, employer
    member.residence_area, member.joined_on, member.path = residence_area, joined_on, path
    member.updated_at = clock.now()
    member.save()
    ended = _end_checkins_elsewhere(actor, member, residence_area)
    audit_record(
        actor=actor,
        action="party.member.update",
        object_type="party_member",
        object_id=member.pk,
        area_path=path,
        detail={"changed": changed, "checkins_ended": ended},
    )
    return member


def _end_checkins_elsewhere(actor: Actor, member: PartyMember, residence_area: Area | None) -> list[int]:
    community = community_of(residence_area) if residence_area is not None else None
    live = Checkin.objects.filter(member=member, state__in=[CheckinState.PENDING, CheckinState.CONFIRMED])
    if community is not None:
        live = live.exclude(community=community)
    ended = []
    for checkin in live:
        checkin.state = CheckinState.ENDED
        checkin.decided_at = clock.now()
        checkin.decided_by_id = actor.id
        checkin.note = "居住地已迁出该社区"
        checkin.save(update_fields=["state", "decided_at", "decided_by", "note"])
        ended.append(checkin.pk)
    return ended


@transaction.atomic
def member_deactivate(*, actor: Actor, scope: Scope, member: PartyMember, reason: str) -> PartyMember:
    """Remove a member from the roll (transferred out, deceased …); a live check-in ends."""
    if not scope.covers_path(member.path):
        raise NotFound()
    if not member.is_active:
        raise DomainError("该党员已注销。")
    if len(reason.strip()) < 2:
        raise DomainError("请填写原因。", field="reason")
    member.is_active = False
    member.updated_at = clock.now()
    member.save(update_fields=["is_active", "updated_at"])
    ended = _end_checkins_elsewhere(actor, member, None)
    audit_record(
        actor=actor,
        action="party.member.deactivate",
        object_type="party_member",
        object_id=member.pk,
        area_path=member.path,
        detail={"reason": reason.strip()[:200], "checkins_ended": ended},
    )
    return member
