"""Geometry helpers: GeoJSON validation and point-in-grid lookup with a shapely STRtree."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.strtree import STRtree

from grassroots.core.errors import DomainError

# Plausible bounds for mainland China in WGS-84; coordinates outside are input errors.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)


class InvalidGeometry(DomainError):
    code = "invalid_geometry"


def check_point(lon: float, lat: float) -> None:
    if not (LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
        raise InvalidGeometry(f"坐标({lon}, {lat})不在中国境内的经纬度范围内（WGS-84，经度在前）。", field="lon")


def parse_polygon(geojson: dict[str, Any]) -> shapely.Geometry:
    """Validate a GeoJSON Polygon/MultiPolygon and return it as a shapely geometry."""
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidGeometry("边界必须是 GeoJSON 的 Polygon 或 MultiPolygon。", field="geometry")
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidGeometry(f"边界无法解析：{exc}", field="geometry") from None
    if geom.is_empty or not geom.is_valid:
        raise InvalidGeometry("边界不是有效的多边形（可能自相交或为空）。", field="geometry")
    minx, miny, maxx, maxy = geom.bounds
    try:
        check_point(minx, miny)
        check_point(maxx, maxy)
    except InvalidGeometry as exc:
        raise InvalidGeometry(f"边界{exc.message}", field="geometry") from None
    return geom


@dataclass(frozen=True)
class _Index:
    version: tuple[object, ...]
    tree: STRtree
    ids: list[int]
    kinds: list[str]


class GridLocator:
    """Point-in-grid over every grid polygon, rebuilt when the grids change.

    ``version`` is any value that changes when a grid's geometry does (the
    caller passes count and latest update time), so one process keeps one tree.
    """

    def __init__(self) -> None:
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def rebuild(self, version: tuple[object, ...], grids: list[tuple[int, str, dict[str, Any]]]) -> None:
        geoms, ids, kinds = [], [], []
        for grid_id, kind, geojson in grids:
            geoms.append(shape(geojson))
            ids.append(grid_id)
            kinds.append(kind)
        with self._lock:
            self._index = _Index(version, STRtree(geoms), ids, kinds)

    def version(self) -> tuple[object, ...] | None:
        return self._index.version if self._index else None

    def locate(self, lon: float, lat: float) -> list[tuple[int, str]]:
        """(grid id, kind) of every grid containing the point."""
        index = self._index
        if index is None:
            return []
        hits = index.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return [(index.ids[i], index.kinds[i]) for i in sorted(int(h) for h in hits)]


locator = GridLocator()
