"""Inputs of the planner: atoms (buildings or entrances), barriers and adjacency edges.

Coordinates are planar metres (project longitude/latitude first with :func:`project_lonlat`).
An atom is the smallest thing the planner places in a unit: a building, or one entrance of a
building that alone holds more households than the ceiling (or, for micro-grids, than the
micro-grid ceiling). Nothing here imports Django.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


class Barrier(IntEnum):
    """What an adjacency edge crosses; higher values are better places for a boundary."""

    none = 0  # open ground inside a compound or between loose buildings
    wall = 1  # a compound wall (the two atoms are in different compounds, or one is outside any)
    local_road = 2
    arterial = 3

    @property
    def is_road(self) -> bool:
        return self in (Barrier.local_road, Barrier.arterial)


@dataclass(frozen=True, slots=True)
class Atom:
    """One building (or one entrance of an oversized building).

    ``building`` groups entrances of one building (``None``: the atom is a whole building, its own
    building); ``compound`` groups buildings of one walled compound (``None``: a loose building);
    ``parent`` is the unit of the level above (community for grids, grid for micro-grids): the
    planner plans inside each parent separately, so units nest exactly.
    """

    id: Hashable
    x: float
    y: float
    households: int
    residents: int = 0
    building: Hashable | None = None
    compound: Hashable | None = None
    parent: Hashable | None = None

    @property
    def building_key(self) -> Hashable:
        return ("b", self.building) if self.building is not None else ("a", self.id)


@dataclass(frozen=True, slots=True)
class Edge:
    """Two neighbouring atoms (by index in the atom list), the barrier between them, and the
    length of boundary they share (the Voronoi ridge, metres; 1.0 when unknown)."""

    a: int
    b: int
    barrier: Barrier = Barrier.none
    length: float = 1.0


@dataclass(frozen=True, slots=True)
class Road:
    """A road centre line (planar metres) used to classify edges that cross it."""

    kind: Barrier
    coords: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class BuildingInput:
    """A building as the platform knows it, before it is turned into atoms."""

    id: Hashable
    x: float
    y: float
    households: int
    residents: int = 0
    compound: Hashable | None = None
    parent: Hashable | None = None
    entrances: Sequence[tuple[Hashable, int, int]] = ()  # (entrance id, households, residents)
    angle: float = 0.0  # orientation of the long side, radians (entrances are laid along it)
    length: float = 60.0  # metres; entrances are spread along this length


def atoms_from_buildings(buildings: Iterable[BuildingInput], *, split_above: int) -> list[Atom]:
    """Whole buildings as atoms; a building with more than ``split_above`` households becomes one
    atom per entrance (its known entrances, else ``2 * ceil(households / split_above)`` equal
    synthetic entrances), laid along its long side so every atom has its own position (Voronoi
    cells need distinct points)."""
    atoms: list[Atom] = []
    for b in buildings:
        if b.households <= split_above:
            atoms.append(Atom(b.id, b.x, b.y, b.households, b.residents, None, b.compound, b.parent))
            continue
        entrances = list(b.entrances)
        if not entrances:
            n = max(2, math.ceil(b.households / split_above) * 2)
            hh = _shares(b.households, n)
            rs = _shares(b.residents, n)
            entrances = [(f"{b.id}-{i + 1}", hh[i], rs[i]) for i in range(n)]
        n = len(entrances)
        dx, dy = math.cos(b.angle), math.sin(b.angle)
        for i, (eid, hh_i, rs_i) in enumerate(entrances):
            offset = (i + 0.5) / n * b.length - b.length / 2
            atoms.append(Atom(eid, b.x + dx * offset, b.y + dy * offset, hh_i, rs_i, b.id, b.compound, b.parent))
    return atoms


def _shares(total: int, n: int) -> list[int]:
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def project_lonlat(lon: float, lat: float, *, lon0: float, lat0: float) -> tuple[float, float]:
    """Equirectangular projection to metres around (lon0, lat0): exact enough inside a city."""
    r = 6_371_008.8
    x = math.radians(lon - lon0) * r * math.cos(math.radians(lat0))
    y = math.radians(lat - lat0) * r
    return x, y
