"""报到: an employed member registers with the community where they live; the community decides.

pending ──confirm──▶ confirmed ──end (moved out)──▶ ended
   └──return (with a reason)──▶ returned          (a returned member may apply again)

One live (pending or confirmed) check-in per member, enforced by the database as well.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import InvalidIdNumber, normalize_phone, parse_id_number
from grassroots.core.scope import Scope
from grassroots.party.models import Checkin, CheckinState, MemberKind, PartyMember
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Person
from grassroots.registry.sealing import PHONE_CONTEXT, id_number_hash

UNKNOWN_PERSON = "未能核对到您的信息，请联系社区（居委会）工作人员登记后再报到。"


def checkin_find_person(*, community: Area, name: str, id_number: str, phone: str) -> Person | None:
    """The registry person living in ``community`` with this ID (by keyed hash), name and phone.

    Any mismatch answers None, the same as an unknown ID, so the form tells nobody who lives where.
    """
    try:
        number = parse_id_number(id_number).number
    except InvalidIdNumber:
        return None
    person = (
        Person.objects.filter(id_number_hash=id_number_hash(number))
        .filter(Scope(area_path=community.path).path_q("path"))
        .first()
    )
    if person is None or person.name != name.strip():
        return None
    if person.phone_hash and crypto.blind_index(normalize_phone(phone), context=PHONE_CONTEXT) != person.phone_hash:
        return None
    return person


def _residence_area(person: Person, community: Area) -> Area:
    grid = Area.objects.filter(path=person.path).first()
    if grid is not None and Scope(area_path=community.path).covers_path(grid.path):
        return grid
    return community


@transaction.atomic
def checkin_request(*, actor: Actor, community: Area, person: Person, skills: str = "", wishes: str = "") -> Checkin:
    """A member (or a person declaring themselves an employed member) applies to ``community``."""
    if community.level != AreaLevel.COMMUNITY:
        raise NotFound()
    if not Scope(area_path=community.path).covers_path(person.path):
        raise DomainError(UNKNOWN_PERSON)
    member = PartyMember.objects.select_for_update().filter(person=person).first()
    now = clock.now()
    if member is None:
        area = _residence_area(person, community)
        member = PartyMember.objects.create(
            person=person,
            kind=MemberKind.EMPLOYED,
            residence_area=area,
            path=area.path,
            created_at=now,
            updated_at=now,
        )
        audit_record(
            actor=actor,
            action="party.member.create",
            object_type="party_member",
            object_id=member.pk,
            area_path=member.path,
            detail={"person": person.pk, "kind": MemberKind.EMPLOYED, "via": "checkin"},
        )
    if not member.is_active:
        raise DomainError("您的党员信息已注销，请联系社区。")
    if member.kind == MemberKind.REGULAR:
        raise DomainError("您的组织关系已在社区，无需报到；报到面向在职党员和流动党员。")
    live = Checkin.objects.filter(member=member, state__in=[CheckinState.PENDING, CheckinState.CONFIRMED]).first()
    if live is not None:
        if live.community_id != community.pk:
            raise DomainError("您已在其他社区报到，迁居后请先联系原社区办理转出。")
        if live.state == CheckinState.PENDING:
            raise DomainError("您的报到申请已提交，正在等待社区确认。")
        raise DomainError("您已在本社区报到，无需重复报到。")
    try:
        with transaction.atomic():
            checkin = Checkin.objects.create(
                member=member,
                community=community,
                path=community.path,
                requested_at=now,
                requested_by_id=actor.id,
                skills=skills.strip()[:200],
                wishes=wishes.strip()[:200],
            )
    except IntegrityError as exc:  # a second tab submitted at the same moment
        raise DomainError("您的报到申请已提交，正在等待社区确认。") from exc
    audit_record(
        actor=actor,
        action="party.checkin.request",
        object_type="party_checkin",
        object_id=checkin.pk,
        area_path=community.path,
        detail={"member": member.pk},
    )
    return checkin


def _locked(scope: Scope, checkin: Checkin) -> Checkin:
    if not scope.covers_path(checkin.path):
        raise NotFound()
    return Checkin.objects.select_for_update().get(pk=checkin.pk)


def _decide(actor: Actor, checkin: Checkin, state: str, note: str, action: str) -> Checkin:
    checkin.state = state
    checkin.decided_at = clock.now()
    checkin.decided_by_id = actor.id
    checkin.note = note.strip()[:300]
    checkin.save(update_fields=["state", "decided_at", "decided_by", "note"])
    audit_record(
        actor=actor,
        action=action,
        object_type="party_checkin",
        object_id=checkin.pk,
        area_path=checkin.path,
        detail={"member": checkin.member_id, "state": state},
    )
    return checkin


@transaction.atomic
def checkin_confirm(*, actor: Actor, scope: Scope, checkin: Checkin, note: str = "") -> Checkin:
    checkin = _locked(scope, checkin)
    if checkin.state != CheckinState.PENDING:
        raise DomainError("该报到申请已处理。")
    return _decide(actor, checkin, CheckinState.CONFIRMED, note, "party.checkin.confirm")


@transaction.atomic
def checkin_return(*, actor: Actor, scope: Scope, checkin: Checkin, reason: str) -> Checkin:
    checkin = _locked(scope, checkin)
    if checkin.state != CheckinState.PENDING:
        raise DomainError("该报到申请已处理。")
    if len(reason.strip()) < 2:
        raise DomainError("退回须填写原因。", field="reason")
    return _decide(actor, checkin, CheckinState.RETURNED, reason, "party.checkin.return")


@transaction.atomic
def checkin_end(*, actor: Actor, scope: Scope, checkin: Checkin, reason: str) -> Checkin:
    """The member moved out (or left): the confirmed check-in ends."""
    checkin = _locked(scope, checkin)
    if checkin.state != CheckinState.CONFIRMED:
        raise DomainError("只有已报到的记录可以办理转出。")
    if len(reason.strip()) < 2:
        raise DomainError("请填写转出原因。", field="reason")
    return _decide(actor, checkin, CheckinState.ENDED, reason, "party.checkin.end")
