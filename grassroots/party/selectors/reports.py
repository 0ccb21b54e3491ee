"""Figures over many members: per community and per employer unit, and the employer-unit report.

Each is a fixed number of queries whatever the number of members: the members (values only),
their confirmed check-ins, one aggregate of the year's confirmed services.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import Checkin, CheckinState, MemberKind, PartyMember
from grassroots.party.selectors.targets import Progress, Target, percent, progress_by_member, target_for
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Unit


@dataclass(frozen=True)
class Tally:
    """Employed members of a community or a unit: how many checked in, how many met both targets."""

    label: str
    key: int
    members: int
    checked_in: int
    met: int

    @property
    def checked_in_percent(self) -> float:
        return percent(self.checked_in, self.members)

    @property
    def met_percent(self) -> float:
        return percent(self.met, self.members)


def _employed(scope: Scope) -> Q:
    return scope.path_q("path") & Q(kind=MemberKind.EMPLOYED, is_active=True)


def _confirmed(member_ids: list[int]) -> dict[int, Checkin]:
    rows = Checkin.objects.filter(member_id__in=member_ids, state=CheckinState.CONFIRMED).select_related("community")
    return {c.member_id: c for c in rows}


def community_tallies(*, scope: Scope, area: Area, year: int) -> tuple[Target, list[Tally]]:
    """Per community at or below ``area``: employed members living there, checked in there, meeting targets."""
    if not scope.covers_path(area.path):
        raise NotFound()
    inside = Scope(area_path=area.path)
    communities = list(Area.objects.in_scope(inside).filter(level=AreaLevel.COMMUNITY).order_by("path"))
    if area.level == AreaLevel.GRID:  # a grid's secretary: the grid's own figures under its community's name
        communities = [area]
    members = list(PartyMember.objects.filter(_employed(inside)).values_list("id", "path"))
    target = target_for(year)
    progress = progress_by_member([m for m, _ in members], target)
    confirmed = _confirmed([m for m, _ in members])
    tallies = []
    for c in communities:
        own = [m for m, p in members if Scope(area_path=c.path).covers_path(p)]
        checked = [m for m in own if m in confirmed and _same_community(confirmed[m].community, c)]
        met = [m for m in own if progress[m].met]
        tallies.append(Tally(c.name, c.pk, len(own), len(checked), len(met)))
    return target, tallies


def _same_community(community: Area, area: Area) -> bool:
    return community.pk == area.pk or Scope(area_path=community.path).covers_path(area.path)


def unit_tallies(*, scope: Scope, year: int) -> tuple[Target, list[Tally]]:
    """Per employer unit: its employed members in scope, checked in anywhere, meeting the targets."""
    if scope.area_path is None:
        raise NotFound()
    members = list(
        PartyMember.objects.filter(_employed(scope), employer__isnull=False).values_list("id", "employer_id")
    )
    target = target_for(year)
    progress = progress_by_member([m for m, _ in members], target)
    confirmed = _confirmed([m for m, _ in members])
    units = {u.pk: u.name for u in Unit.objects.filter(pk__in={u for _, u in members}).only("id", "name")}
    tallies = []
    for unit_id, name in sorted(units.items(), key=lambda kv: kv[1]):
        own = [m for m, u in members if u == unit_id]
        tallies.append(
            Tally(
                name, unit_id, len(own), sum(1 for m in own if m in confirmed), sum(1 for m in own if progress[m].met)
            )
        )
    return target, tallies


def unit_get(*, scope: Scope, unit_id: int) -> Unit:
    """A unit the scope may report on: located in scope, or employing members in scope."""
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None or scope.area_path is None:
        raise NotFound()
    if not scope.covers_path(unit.path) and not PartyMember.objects.filter(_employed(scope), employer=unit).exists():
        raise NotFound()
    return unit


def report_units(*, scope: Scope) -> list[Unit]:
    """Units with employed members in scope (the choices of the unit report)."""
    if scope.area_path is None:
        return []
    ids = PartyMember.objects.filter(_employed(scope), employer__isnull=False).values("employer_id")
    return list(Unit.objects.filter(pk__in=ids).order_by("name"))


@dataclass(frozen=True)
class ReportRow:
    name: str
    id_masked: str
    community: str
    checkin_state: str
    checkin_date: datetime | None
    progress: Progress

    @property
    def volunteer_hours(self) -> Decimal:
        return self.progress.volunteer_hours


@dataclass(frozen=True)
class UnitReport:
    unit: Unit
    year: int
    target: Target
    rows: list[ReportRow]

    @property
    def checked_in(self) -> int:
        return sum(1 for r in self.rows if r.checkin_state == CheckinState.CONFIRMED.label)

    @property
    def met(self) -> int:
        return sum(1 for r in self.rows if r.progress.met)


def unit_report(*, actor: Actor, scope: Scope, unit_id: int, year: int) -> UnitReport:
    """One row per employed member of the unit in scope: check-in and the year's service; audited."""
    unit = unit_get(scope=scope, unit_id=unit_id)
    members = list(
        PartyMember.objects.filter(_employed(scope), employer=unit)
        .select_related("person", "residence_area")
        .defer("person__id_number_cipher", "person__phone_cipher")
        .order_by("person__name_pinyin", "id")
    )
    ids = [m.pk for m in members]
    target = target_for(year)
    progress = progress_by_member(ids, target)
    latest: dict[int, Checkin] = {}
    for c in Checkin.objects.filter(member_id__in=ids).select_related("community").order_by("requested_at", "id"):
        current = latest.get(c.member_id)
        if current is None or current.state not in (CheckinState.PENDING, CheckinState.CONFIRMED):
            latest[c.member_id] = c
    communities = _communities_of(m.path for m in members)
    rows = []
    for m in members:
        c = latest.get(m.pk)
        community = c.community.name if c is not None else communities.get(m.path, "")
        when = (c.decided_at if c.state == CheckinState.CONFIRMED else c.requested_at) if c is not None else None
        rows.append(
            ReportRow(
                m.person.name,
                m.person.id_number_masked,
                community,
                c.get_state_display() if c is not None else "未报到",
                when,
                progress[m.pk],
            )
        )
    audit_record_reads(
        actor=actor,
        object_type="party_member",
        object_ids=ids,
        area_path=scope.area_path or "",
        action="party.unit_report.view",
    )
    return UnitReport(unit, year, target, rows)


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _communities_of(paths: Iterable[str]) -> dict[str, str]:
    """The name of the community holding each path (one query)."""
    wanted = set(paths)
    prefixes = {x for p in wanted for x in _prefixes(p)}
    names = {a.path: a.name for a in Area.objects.filter(path__in=prefixes, level=AreaLevel.COMMUNITY)}
    return {p: next((names[x] for x in _prefixes(p) if x in names), "") for p in wanted}
