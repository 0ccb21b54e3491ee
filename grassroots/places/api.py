"""Places endpoints: the area tree, buildings, grid geometry and point-in-grid, all by scope."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from grassroots.core.api_errors import ERRORS
from grassroots.core.scope import Scope, request_scope
from grassroots.places import selectors
from grassroots.places.models import Area, Building, GridKind
from grassroots.places.schemas import (
    AreaDetailOut,
    AreaOut,
    BuildingDetailOut,
    BuildingOut,
    DwellingOut,
    FeatureCollectionOut,
)

router = Router(tags=["places"])


def _scope(request: HttpRequest) -> Scope:
    return request_scope(request, "places.browse")


def _building_out(b: Building) -> dict[str, Any]:
    return {
        "id": b.pk,
        "grid_id": b.grid_id,
        "compound_id": b.compound_id,
        "compound_name": b.compound.name if b.compound else None,
        "name": b.name,
        "address": b.address,
        "typology": b.typology,
        "floors": b.floors,
        "households": b.households,
        "lon": b.lon,
        "lat": b.lat,
    }


@router.get(
    "/areas", response={200: list[AreaOut], **ERRORS}, summary="Areas the caller may browse (the roots of their scope)"
)
def list_roots(request: HttpRequest) -> list[Area]:
    return selectors.area_roots(scope=_scope(request))


@router.get(
    "/areas/{area_id}", response={200: AreaDetailOut, **ERRORS}, summary="One area with its children and counts"
)
def get_area(request: HttpRequest, area_id: int) -> dict[str, Any]:
    scope = _scope(request)
    area = selectors.area_get(scope=scope, area_id=area_id)
    data = AreaOut.from_orm(area).dict()
    data["stats"] = selectors.area_stats(scope=scope, area=area)
    data["children"] = selectors.area_children(scope=scope, area=area)
    return data


@router.get(
    "/areas/{area_id}/grids.geojson",
    response={200: FeatureCollectionOut, **ERRORS},
    summary="Grid boundaries below an area",
)
def grid_geojson(request: HttpRequest, area_id: int) -> dict[str, Any]:
    scope = _scope(request)
    area = selectors.area_get(scope=scope, area_id=area_id)
    return selectors.grid_features(scope=scope, area=area)


@router.get("/areas/{area_id}/buildings", response={200: list[BuildingOut], **ERRORS}, summary="Buildings of a grid")
def grid_buildings(request: HttpRequest, area_id: int) -> list[dict[str, Any]]:
    scope = _scope(request)
    grid = selectors.area_get(scope=scope, area_id=area_id)
    return [_building_out(b) for b in selectors.building_list(scope=scope, grid=grid)]


@router.get(
    "/buildings/{building_id}", response={200: BuildingDetailOut, **ERRORS}, summary="A building with its dwellings"
)
def get_building(request: HttpRequest, building_id: int) -> dict[str, Any]:
    scope = _scope(request)
    building = selectors.building_get(scope=scope, building_id=building_id)
    data = _building_out(building)
    data["dwellings"] = [
        DwellingOut(id=d.pk, entrance=d.entrance.number, floor=d.floor, room=d.room)
        for d in selectors.building_dwellings(scope=scope, building=building)
    ]
    return data


class LocateQuery(Schema):
    lon: float
    lat: float
    kind: GridKind = GridKind.COMPREHENSIVE


@router.get("/locate", response={200: AreaOut, **ERRORS}, summary="The grid containing a WGS-84 point")
def locate(request: HttpRequest, q: Query[LocateQuery]) -> Area:
    return selectors.grid_at_point(scope=_scope(request), lon=q.lon, lat=q.lat, kind=q.kind)
