"""Reads of the place tree. Every function starts from a Scope; out of scope is NotFound."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Sum

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.geo import check_point, locator
from grassroots.places.models import Area, Building, Dwelling, GridKind

# Finest first: a point in a micro-grid is reported there before its parent grid.
_KIND_ORDER = {GridKind.MICRO: 0, GridKind.DEDICATED: 1, GridKind.COMPREHENSIVE: 2}


def area_get(*, scope: Scope, area_id: int) -> Area:
    area = Area.objects.filter(pk=area_id).first()
    if area is None or not scope.covers_path(area.path):
        raise NotFound()
    return area


def area_asked(*, scope: Scope, area_id: int | None) -> Area:
    """The area a page asks about: ``area_id`` inside the scope, else the top of the scope (``NotFound``)."""
    if scope.area_path is None:
        raise NotFound()
    areas = Area.objects.filter(scope.path_q("path"))
    if area_id is not None:
        area = areas.filter(pk=area_id).first()
    elif scope.area_path:
        area = areas.filter(path=scope.area_path).first()
    else:
        area = areas.order_by("depth", "path").first()
    if area is None:
        raise NotFound()
    return area


def area_get_by_path(*, scope: Scope, path: str) -> Area:
    area = Area.objects.filter(path=path).first()
    if area is None or not scope.covers_path(area.path):
        raise NotFound()
    return area


def area_roots(*, scope: Scope) -> list[Area]:
    """The top nodes a scope may browse: its own area, or the tree's roots for everything."""
    if scope.area_path is None:
        return []
    if scope.is_everything:
        return list(Area.objects.active().filter(parent__isnull=True))
    return list(Area.objects.active().filter(path=scope.area_path))


def area_children(*, scope: Scope, area: Area) -> list[Area]:
    if not scope.covers_path(area.path):
        raise NotFound()
    return list(Area.objects.active().filter(parent=area).order_by("code"))


def area_breadcrumb(*, scope: Scope, area: Area) -> list[tuple[Area, bool]]:
    """Ancestors and the area itself, each with whether the scope may open it."""
    chain = list(Area.objects.filter(path__in=[*area.ancestor_paths(), area.path]).order_by("depth"))
    return [(a, scope.covers_path(a.path)) for a in chain]


def area_stats(*, scope: Scope, area: Area) -> dict[str, int]:
    """Households, buildings, dwellings and grids at or below an area."""
    if not scope.covers_path(area.path):
        raise NotFound()
    inside = Scope(area_path=area.path)
    buildings = Building.objects.in_scope(inside).aggregate(n=Count("id"), households=Sum("households"))
    return {
        "buildings": buildings["n"] or 0,
        "households": buildings["households"] or 0,
        "grids": Area.objects.grids().in_scope(inside).exclude(pk=area.pk).count(),
        # Through buildings: a compound belongs to a community but may span several grids.
        "compounds": Building.objects.in_scope(inside).exclude(compound=None).values("compound").distinct().count(),
    }


def children_household_counts(*, scope: Scope, area: Area) -> dict[int, int]:
    """Households under each child of ``area``, in one query per level below."""
    if not scope.covers_path(area.path):
        raise NotFound()
    children = {c.path: c.pk for c in Area.objects.active().filter(parent=area)}
    counts = dict.fromkeys(children.values(), 0)
    depth = area.path.count(".") + 2  # number of path segments of a child
    rows = (
        Building.objects.in_scope(Scope(area_path=area.path))
        .values("path")
        .annotate(h=Sum("households"))
        .values_list("path", "h")
    )
    for path, households in rows:
        child_path = ".".join(path.split(".")[:depth])
        if child_path in children:
            counts[children[child_path]] += households or 0
    return counts


def building_list(*, scope: Scope, grid: Area) -> list[Building]:
    if not scope.covers_path(grid.path):
        raise NotFound()
    return list(Building.objects.filter(grid=grid).select_related("compound").order_by("compound__name", "id"))


def building_get(*, scope: Scope, building_id: int) -> Building:
    building = Building.objects.select_related("compound", "grid").filter(pk=building_id).first()
    if building is None or not scope.covers_path(building.path):
        raise NotFound()
    return building


def dwelling_get(*, scope: Scope, dwelling_id: int) -> Dwelling:
    dwelling = Dwelling.objects.select_related("entrance", "building__compound").filter(pk=dwelling_id).first()
    if dwelling is None or not scope.covers_path(dwelling.path):
        raise NotFound()
    return dwelling


def building_dwellings(*, scope: Scope, building: Building) -> list[Dwelling]:
    if not scope.covers_path(building.path):
        raise NotFound()
    return list(
        Dwelling.objects.filter(building=building)
        .select_related("entrance")
        .order_by("entrance__number", "-floor", "room")
    )


def grid_features(*, scope: Scope, area: Area) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the grids at or below ``area`` (our own geometry only)."""
    if not scope.covers_path(area.path):
        raise NotFound()
    inside = Scope(area_path=area.path)
    grids = Area.objects.grids().in_scope(inside).filter(geometry__isnull=False)
    households = dict(
        Building.objects.in_scope(inside).values("grid_id").annotate(h=Sum("households")).values_list("grid_id", "h")
    )
    features = [
        {
            "type": "Feature",
            "id": g.pk,
            "geometry": g.geometry,
            "properties": {
                "id": g.pk,
                "name": g.name,
                "kind": g.grid_kind,
                "kind_label": g.kind_label,
                "path": g.path,
                "households": households.get(g.pk, 0),
            },
        }
        for g in grids
    ]
    return {"type": "FeatureCollection", "features": features}


def _ensure_locator() -> None:
    grids = Area.objects.grids().filter(geometry__isnull=False)
    stamp = grids.aggregate(n=Count("id"), last=Max("updated_at"))
    version = (stamp["n"], stamp["last"])
    if locator.version() != version:
        locator.rebuild(version, list(grids.values_list("id", "grid_kind", "geometry")))


def grids_at_point(*, scope: Scope, lon: float, lat: float) -> list[Area]:
    """Every grid within scope that contains the WGS-84 point, finest first."""
    check_point(lon, lat)
    _ensure_locator()
    ids = [grid_id for grid_id, _ in locator.locate(lon, lat)]
    grids = [g for g in Area.objects.grids().filter(pk__in=ids) if scope.covers_path(g.path)]
    return sorted(grids, key=lambda g: (_KIND_ORDER.get(GridKind(g.grid_kind), 9), g.path))


def case_grid_at_point(*, scope: Scope, lon: float, lat: float) -> Area:
    """The grid a problem at this point belongs to: the comprehensive grid, else a dedicated one.

    Dedicated grids (a school, a market) may lie outside every comprehensive grid; a problem
    reported there is theirs, not "outside the platform".
    """
    found = grids_at_point(scope=scope, lon=lon, lat=lat)
    for kind in (GridKind.COMPREHENSIVE, GridKind.DEDICATED):
        for grid in found:
            if grid.grid_kind == kind:
                return grid
    if found:
        return found[0]
    raise NotFound("该位置不在任何网格内，或不在您的管辖范围内。")


def grid_at_point(*, scope: Scope, lon: float, lat: float, kind: str = GridKind.COMPREHENSIVE) -> Area:
    """The grid of ``kind`` containing the point; NotFound when none does (or it is out of scope)."""
    for grid in grids_at_point(scope=scope, lon=lon, lat=lat):
        if grid.grid_kind == kind:
            return grid
    raise NotFound("该位置不在任何网格内，或不在您的管辖范围内。")
