"""Unit polygons: the Voronoi cell of each atom, clipped to the planned area, unioned per unit.

Cells tile the area without gaps or overlaps, so unit polygons do too, and units planned inside a
parent from the same atoms nest exactly in the parent's polygon."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from grassroots.places.planning.adjacency import distinct_positions


def default_clip(xy: np.ndarray, margin: float = 40.0) -> BaseGeometry:
    """The area the cells are clipped to when none is given: the convex hull of the atoms,
    widened by ``margin`` metres."""
    return shapely.convex_hull(shapely.multipoints(xy)).buffer(margin)


def atom_cells(xy: np.ndarray, clip: BaseGeometry | None = None) -> np.ndarray:
    """One clipped Voronoi cell per atom (same order as ``xy``)."""
    if clip is None:
        clip = default_clip(xy)
    if len(xy) == 0:
        return np.empty(0, dtype=object)
    if len(xy) == 1:
        return np.array([clip], dtype=object)
    pts = distinct_positions(xy)
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=clip, ordered=True)
    parts = np.asarray(shapely.get_parts(cells), dtype=object)
    if len(parts) != len(pts):  # GEOS merges points closer than its tolerance: fall back to nearest cell
        tree = shapely.STRtree(parts)
        parts = parts[tree.query_nearest(shapely.points(pts), all_matches=False)[1]]
    shapely.prepare(clip)
    inside = shapely.contains_properly(clip, parts)  # most cells: no clipping needed
    out = parts.copy()
    out[~inside] = shapely.intersection(parts[~inside], clip)
    return out


def union_by(cells: np.ndarray, labels: Sequence[Hashable]) -> dict[Hashable, BaseGeometry]:
    """Union of the cells per label (cells are a coverage: adjacent, not overlapping)."""
    groups: dict[Hashable, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    out: dict[Hashable, BaseGeometry] = {}
    for label, idx in groups.items():
        parts = cells[idx]
        try:
            geom = shapely.coverage_union_all(parts)
        except shapely.errors.GEOSException:
            geom = shapely.union_all(parts)
        if not geom.is_valid:
            geom = shapely.make_valid(shapely.union_all(parts))
        out[label] = geom
    return out


def polsby_popper(geom: BaseGeometry) -> float:
    """4πA/P²: 1 for a circle, about 0.785 for a square, near 0 for a snake."""
    perimeter = geom.length
    if perimeter <= 0:
        return 0.0
    return float(4 * math.pi * geom.area / perimeter**2)
