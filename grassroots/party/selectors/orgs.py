"""Reads of the organisation tree and the 一网格一组织 coverage check, from the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import CommitteeSeat, OrgLevel, PartyOrg
from grassroots.places.models import Area, AreaLevel, GridKind

# Grids that must each have an organisation; micro-grids are covered by their grid's branch.
COVERED_GRID_KINDS = (GridKind.COMPREHENSIVE, GridKind.DEDICATED)


@dataclass
class OrgNode:
    org: PartyOrg
    children: list[OrgNode] = field(default_factory=list)
    seats: list[CommitteeSeat] = field(default_factory=list)


def org_get(*, scope: Scope, org_id: int) -> PartyOrg:
    org = PartyOrg.objects.select_related("area", "parent", "secretary", "building", "unit").filter(pk=org_id).first()
    if org is None or not scope.covers_path(org.path):
        raise NotFound()
    return org


def org_tree(*, scope: Scope, include_inactive: bool = False) -> list[OrgNode]:
    """The organisations in scope as a forest (an organisation whose parent is out of scope is a root).

    Three queries whatever the size: organisations, current seats, nothing per node.
    """
    if scope.area_path is None:
        raise NotFound()
    orgs = PartyOrg.objects.in_scope(scope).select_related("area", "building__compound", "unit")
    if not include_inactive:
        orgs = orgs.filter(is_active=True)
    nodes = {o.pk: OrgNode(o) for o in orgs.order_by("path", "level", "name")}
    seats = CommitteeSeat.objects.in_scope(scope).filter(until=None, org_id__in=list(nodes)).select_related("from_unit")
    for seat in seats.order_by("org_id", "-part_time", "post", "id"):
        nodes[seat.org_id].seats.append(seat)
    roots: list[OrgNode] = []
    for node in nodes.values():
        parent = nodes.get(node.org.parent_id) if node.org.parent_id else None
        (parent.children if parent is not None else roots).append(node)
    return roots


def org_choices(*, scope: Scope, levels: tuple[str, ...] | None = None) -> list[PartyOrg]:
    qs = PartyOrg.objects.in_scope(scope).filter(is_active=True).select_related("area")
    if levels:
        qs = qs.filter(level__in=levels)
    return list(qs.order_by("path", "level", "name"))


@dataclass(frozen=True)
class GridCoverage:
    grid: Area
    org: PartyOrg | None
    community: Area | None


@dataclass(frozen=True)
class Coverage:
    area: Area
    rows: list[GridCoverage]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def covered(self) -> int:
        return sum(1 for r in self.rows if r.org is not None)

    @property
    def percent(self) -> float:
        return round(100 * self.covered / self.total, 1) if self.total else 100.0

    @property
    def missing(self) -> list[GridCoverage]:
        return [r for r in self.rows if r.org is None]


def coverage(*, scope: Scope, area: Area) -> Coverage:
    """一网格一组织: every comprehensive and dedicated grid at or below ``area``, with its active branch.

    Micro-grids do not count: they need no branch of their own. Three queries.
    """
    if not scope.covers_path(area.path):
        raise NotFound()
    inside = Scope(area_path=area.path)
    grids = list(Area.objects.grids().in_scope(inside).filter(grid_kind__in=COVERED_GRID_KINDS).order_by("path"))
    branches = {
        o.area_id: o
        for o in PartyOrg.objects.in_scope(inside).filter(level=OrgLevel.GRID_BRANCH, is_active=True).order_by("id")
    }
    community_paths = {".".join(g.path.split(".")[:-1]) for g in grids}
    communities = {a.path: a for a in Area.objects.filter(path__in=community_paths, level=AreaLevel.COMMUNITY)}
    rows = [GridCoverage(g, branches.get(g.pk), communities.get(".".join(g.path.split(".")[:-1]))) for g in grids]
    return Coverage(area, rows)
