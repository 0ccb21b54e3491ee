"""Reads of the estates app, each starting from the actor's scope; out of scope is NotFound.

The rule (GLOSSARY.md): more than half of an owners' committee's members are party members.
Counted on a day: the members seated that day (``since`` ≤ day ≤ ``until`` or still open), of
whom those who are active party members. Exactly half is not more than half: flagged.
Pages that show members' names are audited as reads of those persons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.estates.models import CommitteePost, OwnersCommittee, OwnersCommitteeMember
from grassroots.party.models import PartyMember
from grassroots.places.models import Area, AreaLevel, Compound

PERSON_CIPHERS = ("person__id_number_cipher", "person__phone_cipher")
# The levels a scope's summary is broken down by.
SUMMARY_LEVELS = (AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY)
POST_ORDER = {CommitteePost.DIRECTOR: 0, CommitteePost.DEPUTY: 1, CommitteePost.MEMBER: 2}


def seated_q(on: date, prefix: str = "") -> Q:
    """Seats current on ``on``; ``prefix`` is e.g. ``"members__"`` from a committee."""
    return Q(**{f"{prefix}since__lte": on}) & (Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gte": on}))


def seated_on(seat: OwnersCommitteeMember, on: date) -> bool:
    return seat.since <= on and (seat.until is None or seat.until >= on)


def is_compliant(members: int, party_members: int) -> bool:
    """More than half, in integers: 3 of 5 yes, 2 of 4 no, 0 of 0 no."""
    return members > 0 and 2 * party_members > members


@dataclass(frozen=True)
class CommitteeShare:
    committee: OwnersCommittee
    members: int  # seated on the day
    party_members: int  # of whom active party members

    @property
    def share(self) -> float | None:
        """Party members' share in per cent, None for a committee without members."""
        return 100 * self.party_members / self.members if self.members else None

    @property
    def compliant(self) -> bool:
        return is_compliant(self.members, self.party_members)

    @property
    def flagged(self) -> bool:
        """Not more than half (≤ 50 %), including a committee with no members."""
        return not self.compliant


def committee_queryset(scope: Scope) -> QuerySet[OwnersCommittee]:
    return OwnersCommittee.objects.in_scope(scope).select_related("compound", "compound__community")


def _with_counts(qs: QuerySet[OwnersCommittee], on: date) -> QuerySet[Any]:
    """Each committee with ``n_members`` seated on ``on`` and ``n_party`` of them active party members."""
    seated = seated_q(on, "members__")
    return qs.annotate(
        n_members=Count("members", filter=seated, distinct=True),
        n_party=Count("members", filter=seated & Q(members__person__party_member__is_active=True), distinct=True),
    )


def committee_shares(*, scope: Scope, area: Area | None = None, on: date | None = None) -> list[CommitteeShare]:
    """Active committees in scope (below ``area`` when given) with their party share on ``on``."""
    if scope.area_path is None:
        raise NotFound()
    qs = committee_queryset(scope).filter(is_active=True)
    if area is not None:
        if not scope.covers_path(area.path):
            raise NotFound()
        qs = qs.filter(Scope(area_path=area.path).path_q("path"))
    rows = _with_counts(qs, on or clock.today()).order_by("path", "compound__name", "id")
    return [CommitteeShare(c, c.n_members, c.n_party) for c in rows]


def compounds_without_committee(*, scope: Scope, area: Area | None = None) -> list[Compound]:
    """Compounds in scope (below ``area``) with no active owners' committee."""
    if scope.area_path is None:
        raise NotFound()
    active = OwnersCommittee.objects.filter(compound=OuterRef("pk"), is_active=True)
    qs = Compound.objects.in_scope(scope).filter(~Exists(active)).select_related("community")
    if area is not None:
        qs = qs.filter(Scope(area_path=area.path).path_q("path"))
    return list(qs.order_by("path", "name"))


@dataclass
class AreaSummary:
    """Committees of an area (a subdistrict, a community, or the page's whole area)."""

    area: Area
    committees: int = 0
    compliant: int = 0
    compounds: int = 0
    without: int = 0  # compounds with no active committee

    @property
    def flagged(self) -> int:
        return self.committees - self.compliant

    @property
    def percentage(self) -> float | None:
        """Compliant committees in per cent of committees, None when there are none."""
        return 100 * self.compliant / self.committees if self.committees else None


@dataclass(frozen=True)
class Overview:
    area: Area
    on: date
    total: AreaSummary
    breakdown: list[AreaSummary]  # each subdistrict and community below ``area``, in tree order
    committees: list[CommitteeShare]
    without: list[Compound]

    @property
    def flagged(self) -> list[CommitteeShare]:
        return [c for c in self.committees if c.flagged]


def overview(*, scope: Scope, area: Area, on: date | None = None) -> Overview:
    """Committees, compliance and compounds without a committee, for ``area`` and the
    subdistricts and communities below it. A fixed number of queries whatever the size."""
    if not scope.covers_path(area.path):
        raise NotFound()
    day = on or clock.today()
    inside = Scope(area_path=area.path)
    shares = committee_shares(scope=scope, area=area, on=day)
    without = compounds_without_committee(scope=scope, area=area)
    compound_paths = list(Compound.objects.in_scope(inside).values_list("path", flat=True))
    below = Area.objects.in_scope(inside).filter(level__in=SUMMARY_LEVELS).exclude(pk=area.pk).order_by("path")
    total = AreaSummary(area)
    summaries = [AreaSummary(a) for a in below]

    def covering(path: str) -> list[AreaSummary]:
        return [total, *(s for s in summaries if Scope(area_path=s.area.path).covers_path(path))]

    for s in shares:
        for summary in covering(s.committee.path):
            summary.committees += 1
            summary.compliant += s.compliant
    for path in compound_paths:
        for summary in covering(path):
            summary.compounds += 1
    for compound in without:
        for summary in covering(compound.path):
            summary.without += 1
    return Overview(area, day, total, summaries, shares, without)


def committee_get(*, scope: Scope, committee_id: int) -> OwnersCommittee:
    committee = committee_queryset(scope).filter(pk=committee_id).first()
    if committee is None:
        raise NotFound()
    return committee


@dataclass(frozen=True)
class SeatRow:
    member: OwnersCommitteeMember
    is_party_member: bool  # an active party member (today)
    current: bool  # seated on the day


@dataclass(frozen=True)
class CommitteeDetail:
    committee: OwnersCommittee
    share: CommitteeShare
    current: list[SeatRow]
    past: list[SeatRow]  # ended or not yet begun


def committee_detail(*, actor: Actor, scope: Scope, committee_id: int, on: date | None = None) -> CommitteeDetail:
    """A committee with its members, party members marked; audited as a read of the persons shown."""
    committee = committee_get(scope=scope, committee_id=committee_id)
    day = on or clock.today()
    party = PartyMember.objects.filter(person=OuterRef("person_id"), is_active=True)
    seats = list(
        OwnersCommitteeMember.objects.filter(committee=committee)
        .select_related("person")
        .defer(*PERSON_CIPHERS)
        .annotate(is_party=Exists(party))
    )
    seats.sort(key=lambda s: (POST_ORDER.get(s.post, 9), s.since, s.pk))
    rows = [SeatRow(s, bool(s.is_party), seated_on(s, day)) for s in seats]
    current = [r for r in rows if r.current]
    members, party_members = len(current), sum(r.is_party_member for r in current)
    audit_record_reads(
        actor=actor,
        object_type="person",
        object_ids=sorted({s.person_id for s in seats}),
        area_path=committee.path,
        action="estates.committee.members.view",
    )
    return CommitteeDetail(
        committee=committee,
        share=CommitteeShare(committee, members, party_members),
        current=current,
        past=[r for r in rows if not r.current],
    )


def seat_get(*, scope: Scope, committee: OwnersCommittee, member_id: int) -> OwnersCommitteeMember:
    seat = (
        OwnersCommitteeMember.objects.in_scope(scope)
        .filter(committee=committee, pk=member_id)
        .select_related("person", "committee")
        .defer(*PERSON_CIPHERS)
        .first()
    )
    if seat is None:
        raise NotFound()
    return seat
