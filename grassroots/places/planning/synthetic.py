"""Generated cities for tests and benchmarks, reproducible by seed.

Blocks of 200 m lie between local roads, and every fourth road is an arterial (superblocks of
800 m). A block holds one to four walled compounds of one typology (low-rise walk-ups,
mid-rise, high-rise; a few towers of more than 500 households, split by entrance) or, in some
blocks, loose old buildings outside any compound. Households and residents per building follow
the typology."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from grassroots.places.planning.atoms import Atom, Barrier, BuildingInput, Road, atoms_from_buildings

BLOCK = 200.0  # metres between local roads
ARTERIAL_EVERY = 4  # every fourth road is an arterial
SETBACK = 14.0  # from the road centre line to the first building

# typology: (share of compounds, households low-high, spacing in metres)
TYPOLOGIES = {
    "walkup": (0.45, (12, 36), 28.0),
    "midrise": (0.35, (36, 90), 34.0),
    "highrise": (0.20, (90, 240), 46.0),
}
LOOSE_BLOCKS = 0.15  # blocks of old loose buildings (no compound)
TOWER_SHARE = 0.01  # high-rise buildings that are towers of 520-760 households


@dataclass
class City:
    buildings: list[BuildingInput]
    atoms: list[Atom]
    roads: list[Road]
    boundary: BaseGeometry
    seed: int

    @property
    def households(self) -> int:
        return sum(a.households for a in self.atoms)


def generate_city(buildings: int, *, seed: int = 0, split_above: int = 500) -> City:
    """A city of about ``buildings`` buildings (exactly that many)."""
    rng = np.random.default_rng(seed)
    per_block = 16  # rough average, to size the square of blocks
    side = max(1, math.ceil(math.sqrt(buildings / per_block)))
    out: list[BuildingInput] = []
    compound_no = 0
    blocks = [(i, j) for j in range(side * 3) for i in range(side)]  # rows of blocks, more than enough
    used_rows = 0
    for bi, bj in blocks:
        if len(out) >= buildings:
            break
        used_rows = max(used_rows, bj + 1)
        x0, y0 = bi * BLOCK + SETBACK, bj * BLOCK + SETBACK
        inner = BLOCK - 2 * SETBACK
        if rng.random() < LOOSE_BLOCKS:
            for x, y in _lattice(rng, x0, y0, inner, inner, 24.0):
                hh = int(rng.integers(4, 25))
                out.append(_building(rng, len(out), x, y, hh, None))
            continue
        layout = rng.choice([1, 2, 2, 4])
        rects = _split(x0, y0, inner, inner, int(layout), rng)
        for rx, ry, rw, rh in rects:
            compound_no += 1
            kind = rng.choice(list(TYPOLOGIES), p=[t[0] for t in TYPOLOGIES.values()])
            _, (lo, hi), spacing = TYPOLOGIES[str(kind)]
            for x, y in _lattice(rng, rx, ry, rw, rh, spacing):
                hh = int(rng.integers(lo, hi + 1))
                if kind == "highrise" and rng.random() < TOWER_SHARE:
                    hh = int(rng.integers(520, 761))
                out.append(_building(rng, len(out), x, y, hh, f"C{compound_no}"))
    out = out[:buildings]
    cols = side
    roads = []
    for i in range(cols + 1):
        kind = Barrier.arterial if i % ARTERIAL_EVERY == 0 else Barrier.local_road
        roads.append(Road(kind, ((i * BLOCK, 0.0), (i * BLOCK, used_rows * BLOCK))))
    for j in range(used_rows + 1):
        kind = Barrier.arterial if j % ARTERIAL_EVERY == 0 else Barrier.local_road
        roads.append(Road(kind, ((0.0, j * BLOCK), (cols * BLOCK, j * BLOCK))))
    atoms = atoms_from_buildings(out, split_above=split_above)
    xy = np.array([(a.x, a.y) for a in atoms])
    boundary = shapely.convex_hull(shapely.multipoints(xy)).buffer(SETBACK) if len(xy) else shapely.Polygon()
    return City(out, atoms, roads, boundary, seed)


def _building(rng: np.random.Generator, n: int, x: float, y: float, hh: int, compound: str | None) -> BuildingInput:
    residents = round(hh * float(rng.uniform(2.2, 3.1)))
    return BuildingInput(f"B{n + 1}", x, y, hh, residents, compound, length=min(60.0, 20.0 + hh / 12))


def _lattice(
    rng: np.random.Generator, x0: float, y0: float, w: float, h: float, spacing: float
) -> list[tuple[float, float]]:
    nx, ny = max(1, int(w // spacing)), max(1, int(h // spacing))
    dx, dy = w / nx, h / ny
    pts = []
    for j in range(ny):
        for i in range(nx):
            jitter = rng.uniform(-0.15, 0.15, size=2) * (dx, dy)
            pts.append((x0 + (i + 0.5) * dx + float(jitter[0]), y0 + (j + 0.5) * dy + float(jitter[1])))
    return pts


def _split(
    x0: float, y0: float, w: float, h: float, parts: int, rng: np.random.Generator
) -> list[tuple[float, float, float, float]]:
    gap = 6.0  # a wall and a lane between compounds
    if parts == 1:
        return [(x0, y0, w, h)]
    if parts == 2:
        f = float(rng.uniform(0.35, 0.65))
        if rng.random() < 0.5:
            return [(x0, y0, w * f - gap / 2, h), (x0 + w * f + gap / 2, y0, w * (1 - f) - gap / 2, h)]
        return [(x0, y0, w, h * f - gap / 2), (x0, y0 + h * f + gap / 2, w, h * (1 - f) - gap / 2)]
    half_w, half_h = w / 2 - gap / 2, h / 2 - gap / 2
    return [
        (x0, y0, half_w, half_h),
        (x0 + w / 2 + gap / 2, y0, half_w, half_h),
        (x0, y0 + h / 2 + gap / 2, half_w, half_h),
        (x0 + w / 2 + gap / 2, y0 + h / 2 + gap / 2, half_w, half_h),
    ]
