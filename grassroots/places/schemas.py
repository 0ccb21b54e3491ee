from __future__ import annotations

from typing import Any

from ninja import Schema


class AreaOut(Schema):
    id: int
    parent_id: int | None
    level: str
    grid_kind: str
    code: str
    name: str
    path: str
    mode: str
    lon: float | None
    lat: float | None


class AreaDetailOut(AreaOut):
    stats: dict[str, int]
    children: list[AreaOut]


class BuildingOut(Schema):
    id: int
    grid_id: int
    compound_id: int | None
    compound_name: str | None
    name: str
    address: str
    typology: str
    floors: int
    households: int
    lon: float
    lat: float


class DwellingOut(Schema):
    id: int
    entrance: int
    floor: int
    room: str


class BuildingDetailOut(BuildingOut):
    dwellings: list[DwellingOut]


class FeatureCollectionOut(Schema):
    type: str
    features: list[dict[str, Any]]
