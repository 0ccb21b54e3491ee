"""Reads of building roles: a grid's buildings with their heads, the gaps, and each building's history."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area, Building, Entrance
from grassroots.volunteers.models import BuildingRole, BuildingRoleKind


@dataclass
class EntranceRow:
    entrance: Entrance
    head: BuildingRole | None = None


@dataclass
class BuildingRow:
    building: Building
    head: BuildingRole | None = None
    entrances: list[EntranceRow] = field(default_factory=list)
    central: list[BuildingRole] = field(default_factory=list)

    @property
    def missing_entrance_heads(self) -> int:
        return sum(1 for e in self.entrances if e.head is None)


@dataclass
class GridRoles:
    grid: Area
    buildings: list[BuildingRow]

    @property
    def without_head(self) -> int:
        return sum(1 for b in self.buildings if b.head is None)

    @property
    def entrances(self) -> int:
        return sum(len(b.entrances) for b in self.buildings)

    @property
    def without_entrance_head(self) -> int:
        return sum(b.missing_entrance_heads for b in self.buildings)

    @property
    def central_households(self) -> int:
        return sum(len(b.central) for b in self.buildings)


def grids_in_scope(*, scope: Scope) -> list[Area]:
    """The grids a scope may open, for a picker."""
    if scope.area_path is None:
        return []
    return list(Area.objects.grids().filter(scope.path_q()).order_by("path"))


def _current_roles(scope_q: Scope, **filters: object) -> list[BuildingRole]:
    return list(
        BuildingRole.objects.filter(scope_q.path_q(), until__isnull=True, **filters)
        .select_related("person")
        .only("id", "kind", "building_id", "entrance_id", "since", "until", "path", "person__id", "person__name")
        .order_by("since", "id")
    )


def grid_roles(*, scope: Scope, grid: Area) -> GridRoles:
    """Every building of a grid with its current 楼栋长, 单元长 per entrance and 中心户 (four queries)."""
    if not scope.covers_path(grid.path):
        raise NotFound()
    buildings = list(Building.objects.filter(grid=grid).select_related("compound").order_by("compound__name", "id"))
    entrances = list(Entrance.objects.filter(building__grid=grid).order_by("building_id", "number"))
    rows = {b.pk: BuildingRow(b) for b in buildings}
    entrance_rows: dict[int, EntranceRow] = {}
    for e in entrances:
        row = EntranceRow(e)
        entrance_rows[e.pk] = row
        if e.building_id in rows:
            rows[e.building_id].entrances.append(row)
    for role in _current_roles(Scope(area_path=grid.path), building__grid=grid):
        building_row = rows.get(role.building_id)
        if building_row is None:
            continue
        if role.kind == BuildingRoleKind.BUILDING_HEAD:
            building_row.head = role
        elif role.kind == BuildingRoleKind.ENTRANCE_HEAD and role.entrance_id in entrance_rows:
            entrance_rows[role.entrance_id].head = role
        elif role.kind == BuildingRoleKind.CENTRAL_HOUSEHOLD:
            building_row.central.append(role)
    return GridRoles(grid=grid, buildings=list(rows.values()))


@dataclass(frozen=True)
class GridGaps:
    grid: Area
    buildings: int
    without_head: int
    entrances: int
    without_entrance_head: int
    central_households: int


def gaps_by_grid(*, scope: Scope) -> list[GridGaps]:
    """Per grid in scope: buildings without a 楼栋长, entrances without a 单元长 (four queries in all)."""
    grids = grids_in_scope(scope=scope)
    grid_ids = [g.pk for g in grids]
    building_grid = dict(Building.objects.filter(grid_id__in=grid_ids).values_list("id", "grid_id"))
    entrance_building = dict(Entrance.objects.filter(building_id__in=building_grid).values_list("id", "building_id"))
    heads: set[int] = set()
    entrance_heads: set[int] = set()
    central: dict[int, int] = {}
    roles = BuildingRole.objects.filter(scope.path_q(), until__isnull=True).values_list(
        "kind", "building_id", "entrance_id"
    )
    for kind, building_id, entrance_id in roles:
        if kind == BuildingRoleKind.BUILDING_HEAD:
            heads.add(building_id)
        elif kind == BuildingRoleKind.ENTRANCE_HEAD and entrance_id is not None:
            entrance_heads.add(entrance_id)
        elif kind == BuildingRoleKind.CENTRAL_HOUSEHOLD:
            grid_id = building_grid.get(building_id)
            if grid_id is not None:
                central[grid_id] = central.get(grid_id, 0) + 1
    count: dict[int, list[int]] = {g: [0, 0, 0, 0] for g in grid_ids}  # buildings, no head, entrances, no head
    for building_id, grid_id in building_grid.items():
        count[grid_id][0] += 1
        count[grid_id][1] += building_id not in heads
    for entrance_id, building_id in entrance_building.items():
        grid_id = building_grid[building_id]
        count[grid_id][2] += 1
        count[grid_id][3] += entrance_id not in entrance_heads
    return [
        GridGaps(
            grid=g,
            buildings=count[g.pk][0],
            without_head=count[g.pk][1],
            entrances=count[g.pk][2],
            without_entrance_head=count[g.pk][3],
            central_households=central.get(g.pk, 0),
        )
        for g in grids
    ]


def building_history(*, scope: Scope, building: Building) -> list[BuildingRole]:
    """Every role ever held at a building, current ones first."""
    if not scope.covers_path(building.path):
        raise NotFound()
    return list(
        BuildingRole.objects.filter(building=building)
        .select_related("person", "entrance")
        .order_by(F("until").desc(nulls_first=True), "kind", "-since", "-id")
    )


def building_role_get(*, scope: Scope, role_id: int) -> BuildingRole:
    role = BuildingRole.objects.select_related("person", "building", "entrance").filter(pk=role_id).first()
    if role is None or not scope.covers_path(role.path):
        raise NotFound()
    return role
