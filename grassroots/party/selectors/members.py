"""Reads of members, check-ins and services. Party membership is sensitive: every read that shows
members is audited, and rows carry masked IDs only (the ciphertexts are never loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import Checkin, CheckinState, PartyMember, ServiceRecord
from grassroots.party.selectors.targets import Progress, progress_by_member, target_for
from grassroots.places.models import Area
from grassroots.registry.models import Person

PERSON_CIPHERS = ("person__id_number_cipher", "person__phone_cipher")
LIVE = (CheckinState.PENDING, CheckinState.CONFIRMED)


def member_queryset(scope: Scope) -> QuerySet[PartyMember]:
    return (
        PartyMember.objects.in_scope(scope)
        .select_related("person", "org", "employer", "residence_area")
        .defer(*PERSON_CIPHERS)
    )


@dataclass(frozen=True)
class MemberFilters:
    kind: str = ""
    org_id: int | None = None
    q: str = ""  # a name (or its beginning)
    checkin: str = ""  # "", "none" or a CheckinState
    active: bool = True


@dataclass(frozen=True)
class MemberRow:
    member: PartyMember
    checkin: Checkin | None  # the live one, else the latest


def _filtered(scope: Scope, f: MemberFilters) -> QuerySet[PartyMember]:
    qs = member_queryset(scope).filter(is_active=f.active)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.org_id:
        qs = qs.filter(org_id=f.org_id)
    if f.q:
        qs = qs.filter(person__name__startswith=f.q.strip()[:50])
    if f.checkin == "none":
        qs = qs.exclude(checkins__state__in=LIVE)
    elif f.checkin:
        qs = qs.filter(checkins__state=f.checkin).distinct()
    return qs.order_by("path", "id")


def _with_checkins(members: list[PartyMember]) -> list[MemberRow]:
    by_member: dict[int, Checkin] = {}
    checkins = Checkin.objects.filter(member_id__in=[m.pk for m in members]).select_related("community")
    for c in checkins.order_by("member_id", "requested_at", "id"):
        current = by_member.get(c.member_id)
        if current is None or current.state not in LIVE or c.state in LIVE:
            by_member[c.member_id] = c
    return [MemberRow(m, by_member.get(m.pk)) for m in members]


def member_page(*, actor: Actor, scope: Scope, filters: MemberFilters, page: int, per_page: int = 50) -> Page:
    """One page of members in scope (rows: MemberRow), audited as a read of the members shown."""
    if scope.area_path is None:
        raise NotFound()
    paginator = Paginator(_filtered(scope, filters), per_page)
    result = paginator.get_page(page)
    rows = _with_checkins(list(result.object_list))
    result.object_list = rows  # type: ignore[assignment]
    audit_record_reads(
        actor=actor,
        object_type="party_member",
        object_ids=[r.member.pk for r in rows],
        area_path=scope.area_path,
        action="party.member.list",
    )
    return result


def member_get(*, actor: Actor | None, scope: Scope, member_id: int) -> PartyMember:
    """One member in scope; audited as a read when ``actor`` is given."""
    member = member_queryset(scope).filter(pk=member_id).first()
    if member is None:
        raise NotFound()
    if actor is not None:
        audit_record_reads(
            actor=actor,
            object_type="party_member",
            object_ids=[member.pk],
            area_path=member.path,
            action="party.member.view",
        )
    return member


@dataclass(frozen=True)
class MemberDetail:
    member: PartyMember
    checkins: list[Checkin]
    services: list[ServiceRecord]
    progress: Progress

    @property
    def live_checkin(self) -> Checkin | None:
        return next((c for c in self.checkins if c.state in LIVE), None)


def member_detail(*, actor: Actor, scope: Scope, member_id: int, year: int) -> MemberDetail:
    member = member_get(actor=actor, scope=scope, member_id=member_id)
    checkins = list(member.checkins.select_related("community", "decided_by").order_by("-requested_at", "-id"))
    services = list(member.services.order_by("-date", "-id")[:200])
    target = target_for(year)
    return MemberDetail(member, checkins, services, progress_by_member([member.pk], target)[member.pk])


def checkin_queue(*, actor: Actor, scope: Scope, state: str = CheckinState.PENDING) -> list[Checkin]:
    """Check-ins in scope in one state (pending: the community's confirmations to make); audited."""
    if scope.area_path is None:
        raise NotFound()
    rows = list(
        Checkin.objects.in_scope(scope)
        .filter(state=state)
        .select_related("member__person", "member__employer", "community", "decided_by")
        .defer(*(f"member__{c}" for c in PERSON_CIPHERS))
        .order_by("requested_at", "id")[:500]
    )
    audit_record_reads(
        actor=actor,
        object_type="party_member",
        object_ids=[c.member_id for c in rows],
        area_path=scope.area_path,
        action="party.checkin.list",
    )
    return rows


def checkin_get(*, scope: Scope, checkin_id: int) -> Checkin:
    checkin = Checkin.objects.select_related("member__person", "community").filter(pk=checkin_id).first()
    if checkin is None or not scope.covers_path(checkin.path):
        raise NotFound()
    return checkin


def service_get(*, scope: Scope, record_id: int) -> ServiceRecord:
    record = ServiceRecord.objects.select_related("member__person").filter(pk=record_id).first()
    if record is None or not scope.covers_path(record.path):
        raise NotFound()
    return record


def services_unconfirmed(*, actor: Actor, scope: Scope, limit: int = 200) -> list[ServiceRecord]:
    if scope.area_path is None:
        raise NotFound()
    rows = list(
        ServiceRecord.objects.in_scope(scope)
        .filter(confirmed=False)
        .select_related("member__person")
        .defer(*(f"member__{c}" for c in PERSON_CIPHERS))
        .order_by("date", "id")[:limit]
    )
    audit_record_reads(
        actor=actor,
        object_type="party_member",
        object_ids=sorted({r.member_id for r in rows}),
        area_path=scope.area_path,
        action="party.service_record.list",
    )
    return rows


def person_for_member(*, scope: Scope, person_id: int) -> Person:
    person = Person.objects.defer("id_number_cipher", "phone_cipher").filter(pk=person_id).first()
    if person is None or not scope.covers_path(person.path):
        raise NotFound()
    return person


def live_checkin_of(member: PartyMember) -> Checkin | None:
    return member.checkins.filter(state__in=LIVE).select_related("community").first()


def community_areas(*, scope: Scope, under: Area | None = None) -> list[Area]:
    """Communities in scope (under ``under`` when given), for choices and reports."""
    if scope.area_path is None:
        return []
    qs = Area.objects.in_scope(scope).filter(level="community")
    if under is not None:
        qs = qs.filter(Scope(area_path=under.path).path_q("path"))
    return list(qs.order_by("path"))
