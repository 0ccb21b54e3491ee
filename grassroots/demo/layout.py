"""Pure planning for the demo city: sizes that keep every rule, and a lattice for geometry.

Buildings sit one per cell of a lattice walked along a Hilbert curve. Any run of
consecutive cells on that curve is edge-connected and compact, so a grid (a run of
buildings), a community (a run of grids) and a subdistrict (a run of communities)
are each one connected polygon, and no two of them overlap.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import box, mapping

COMMUNITY_MIN, COMMUNITY_MAX = 2000, 3000
GRID_MIN, GRID_MAX = 300, 500
COMMUNITIES_PER_SUBDISTRICT = (8, 15)

# South-west corner of the lattice and the cell size (about 105 m × 105 m) near 昆山.
ORIGIN_LON, ORIGIN_LAT = 120.86, 31.26
CELL_LON, CELL_LAT = 0.0011, 0.00095
_HILBERT_ORDER = 10  # 1024 × 1024 cells: far more than 2,000,000 households need


class PlanError(ValueError):
    """The requested size cannot be split within the rules."""


def split_total(rng: random.Random, total: int, parts: int, low: int, high: int) -> list[int]:
    """``parts`` integers in [low, high] summing to ``total``, varied but deterministic."""
    if not low * parts <= total <= high * parts:
        raise PlanError(f"cannot split {total} into {parts} parts within [{low}, {high}]")
    sizes = [low] * parts
    extra = total - low * parts
    weights = [rng.uniform(0.3, 1.7) for _ in range(parts)]
    scale = sum(weights)
    for i, weight in enumerate(weights):
        add = min(high - low, int(extra * weight / scale))
        sizes[i] += add
    left = total - sum(sizes)
    order = list(range(parts))
    while left:
        rng.shuffle(order)
        for i in order:
            if left and sizes[i] < high:
                step = min(left, high - sizes[i], max(1, left // parts))
                sizes[i] += step
                left -= step
    return sizes


def community_sizes(rng: random.Random, households: int) -> list[int]:
    """Households per community, each within [2,000, 3,000]."""
    low = math.ceil(households / COMMUNITY_MAX)
    high = households // COMMUNITY_MIN
    if low > high:
        raise PlanError(f"{households} households cannot form communities of 2,000–3,000 households")
    count = min(max(round(households / 2500), low), high)
    return split_total(rng, households, count, COMMUNITY_MIN, COMMUNITY_MAX)


def subdistrict_groups(rng: random.Random, communities: int) -> list[int]:
    """Communities per subdistrict: 8–15 each once there are enough of them.

    A small city still gets two subdistricts (when it has two communities), so the
    demo shows a scope boundary between subdistricts.
    """
    low, high = COMMUNITIES_PER_SUBDISTRICT
    if communities < 2:
        return [communities]
    if communities < 2 * low:
        return split_total(rng, communities, 2, 1, communities - 1)
    count = min(max(round(communities / 11), math.ceil(communities / high)), communities // low)
    return split_total(rng, communities, count, low, high)


def partition_runs(rng: random.Random, sizes: Sequence[int], low: int = GRID_MIN, high: int = GRID_MAX) -> list[int]:
    """Cut ``sizes`` into consecutive runs whose sums lie in [low, high]; returns run lengths.

    Dynamic programming over prefix sums; among the valid cuts one is drawn at random
    so grid sizes spread over the whole range. Raises PlanError when no cut exists.
    """
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)
    n = len(sizes)
    reachable = [False] * (n + 1)
    reachable[0] = True
    for i in range(1, n + 1):
        j = i - 1
        while j >= 0 and prefix[i] - prefix[j] <= high:
            if reachable[j] and prefix[i] - prefix[j] >= low:
                reachable[i] = True
                break
            j -= 1
    if not reachable[n]:
        raise PlanError("no partition within bounds")
    runs: list[int] = []
    i = n
    while i > 0:
        options = [j for j in range(i) if reachable[j] and low <= prefix[i] - prefix[j] <= high]
        j = rng.choice(options)
        runs.append(i - j)
        i = j
    runs.reverse()
    return runs


def hilbert_cell(index: int) -> tuple[int, int]:
    """Column and row of the ``index``-th cell on the Hilbert curve (the first 4^k fill a 2^k square)."""
    x = y = 0
    t = index
    s = 1
    while s < (1 << _HILBERT_ORDER):
        rx = 1 & (t // 2)
        ry = 1 & (t ^ rx)
        if ry == 0:
            if rx == 1:
                x, y = s - 1 - x, s - 1 - y
            x, y = y, x
        x += s * rx
        y += s * ry
        t //= 4
        s *= 2
    if t:
        raise PlanError("the lattice is full")
    return x, y


def _edge(value: int, origin: float, step: float) -> float:
    # One formula for every cell edge, so neighbouring cells share bit-identical edges.
    return round(origin + value * step, 7)


def cell_box(col: int, row: int) -> shapely.Geometry:
    return box(
        _edge(col, ORIGIN_LON, CELL_LON),
        _edge(row, ORIGIN_LAT, CELL_LAT),
        _edge(col + 1, ORIGIN_LON, CELL_LON),
        _edge(row + 1, ORIGIN_LAT, CELL_LAT),
    )


def point_in_cell(rng: random.Random, col: int, row: int) -> tuple[float, float]:
    """A building's point, well inside its cell (never on an edge shared with another grid)."""
    lon = ORIGIN_LON + (col + rng.uniform(0.3, 0.7)) * CELL_LON
    lat = ORIGIN_LAT + (row + rng.uniform(0.3, 0.7)) * CELL_LAT
    return round(lon, 7), round(lat, 7)


def footprint(lon: float, lat: float, wide: bool) -> dict[str, Any]:
    """A small rectangular building outline around its point, inside the cell."""
    half_lon = CELL_LON * (0.22 if wide else 0.12)
    half_lat = CELL_LAT * 0.08
    return to_geojson(box(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat))


def union(geoms: Sequence[shapely.Geometry]) -> shapely.Geometry:
    # simplify(0) drops the collinear vertices left where cells met; edges do not move.
    return shapely.union_all(list(geoms)).simplify(0)


def to_geojson(geom: shapely.Geometry) -> dict[str, Any]:
    data = mapping(geom)
    coords = data["coordinates"]
    if data["type"] == "Polygon":
        coords = [[[round(x, 7), round(y, 7)] for x, y in ring] for ring in coords]
    else:
        coords = [[[[round(x, 7), round(y, 7)] for x, y in ring] for ring in poly] for poly in coords]
    return {"type": data["type"], "coordinates": coords}


def area_fields(geom: shapely.Geometry) -> dict[str, Any]:
    """Geometry plus the representative point, the way places.services stores an area."""
    centre = geom.representative_point()
    return {"geometry": to_geojson(geom), "lon": round(centre.x, 7), "lat": round(centre.y, 7)}
