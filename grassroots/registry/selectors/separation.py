"""人户分离 per grid: who lives here registered elsewhere, who is registered here living elsewhere.

A person's ``path`` is the grid they are attached to (where they live, or where they are
registered once they moved out of the city); ``separation`` says which case applies.

- Lives here, registered elsewhere: attached to the grid, separation "lives_here".
- Registered here, lives elsewhere: a current registered Residence in the grid, and either
  separation "registered_here" (lives outside our tree) or "lives_here" attached to
  another grid (lives in another dwelling of the city).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Person, Residence, ResidenceKind, Separation
from grassroots.registry.selectors.people import CIPHERS, PersonRow, person_rows

MAX_LIST = 2000


def _registered_away_q() -> Q:
    """Current registered residences whose person lives somewhere else (see the module doc)."""
    return Q(kind=ResidenceKind.REGISTERED, until__isnull=True) & (
        Q(person__separation=Separation.REGISTERED_HERE_LIVES_ELSEWHERE)
        | (Q(person__separation=Separation.LIVES_HERE_REGISTERED_ELSEWHERE) & ~Q(person__path=F("path")))
    )


@dataclass(frozen=True)
class GridCounts:
    grid: Area
    community: Area | None
    lives_here: int
    registered_away: int


def separation_counts(*, scope: Scope, area: Area) -> list[GridCounts]:
    """Both counts for every grid at or below ``area``: three queries, whatever the size."""
    if not scope.covers_path(area.path):
        raise NotFound()
    inside = Scope(area_path=area.path)
    grids = list(Area.objects.grids().in_scope(inside).order_by("path"))
    communities = {a.path: a for a in Area.objects.in_scope(inside).filter(level=AreaLevel.COMMUNITY)} | (
        {area.path: area} if area.level == AreaLevel.COMMUNITY else {}
    )
    here = dict(
        Person.objects.filter(inside.path_q("path"), separation=Separation.LIVES_HERE_REGISTERED_ELSEWHERE)
        .values("path")
        .annotate(n=Count("id"))
        .values_list("path", "n")
    )
    away = dict(
        Residence.objects.filter(inside.path_q("path"))
        .filter(_registered_away_q())
        .values("path")
        .annotate(n=Count("id"))
        .values_list("path", "n")
    )
    return [
        GridCounts(
            grid=g,
            community=communities.get(g.path.rsplit(".", 1)[0]),
            lives_here=here.get(g.path, 0),
            registered_away=away.get(g.path, 0),
        )
        for g in grids
    ]


@dataclass(frozen=True)
class HereRow:
    row: PersonRow
    registered: Residence | None


@dataclass(frozen=True)
class AwayRow:
    person: Person
    registered: Residence
    actual: Residence | None
    visible: bool  # the person's own record lies in the viewer's scope (link it)
    actual_in_scope: bool


@dataclass(frozen=True)
class GridSeparation:
    lives_here: list[HereRow]
    registered_away: list[AwayRow]


def _current(person_ids: list[int], kinds: list[str]) -> dict[int, Residence]:
    rows = (
        Residence.objects.filter(person_id__in=person_ids, kind__in=kinds, until__isnull=True)
        .select_related("dwelling__entrance", "dwelling__building__compound")
        .order_by("person_id", "since", "id")
    )
    return {r.person_id: r for r in rows}  # the latest start wins


def grid_separation(*, actor: Actor, scope: Scope, grid: Area) -> GridSeparation:
    """The two 人户分离 lists of one grid, masked; one audited read of everyone shown."""
    if not scope.covers_path(grid.path):
        raise NotFound()
    inside = Scope(area_path=grid.path)
    here_people = list(
        Person.objects.defer(*CIPHERS)
        .select_related("dwelling__entrance", "dwelling__building__compound")
        .filter(inside.path_q("path"), separation=Separation.LIVES_HERE_REGISTERED_ELSEWHERE)
        .order_by("dwelling_id", "id")[:MAX_LIST]
    )
    registered = _current([p.pk for p in here_people], [ResidenceKind.REGISTERED])
    here = [HereRow(row, registered.get(row.person.pk)) for row in person_rows(here_people)]
    away_regs = list(
        Residence.objects.filter(inside.path_q("path"))
        .filter(_registered_away_q())
        .select_related("person", "dwelling__entrance", "dwelling__building__compound")
        .defer(*(f"person__{c}" for c in CIPHERS))
        .order_by("dwelling_id", "person_id")[:MAX_LIST]
    )
    actual = _current([r.person_id for r in away_regs], [ResidenceKind.RESIDENT, ResidenceKind.FLOATING])
    away = []
    for reg in away_regs:
        act = actual.get(reg.person_id)
        away.append(
            AwayRow(
                person=reg.person,
                registered=reg,
                actual=act,
                visible=scope.covers_path(reg.person.path),
                actual_in_scope=act is not None and bool(act.path) and scope.covers_path(act.path),
            )
        )
    audit_record_reads(
        actor=actor,
        object_type="person",
        object_ids=[h.row.person.pk for h in here] + [a.person.pk for a in away],
        area_path=grid.path,
        action="registry.person.view",
    )
    return GridSeparation(lives_here=here, registered_away=away)
