"""Adjacency of atoms: Delaunay neighbours (the duals of Voronoi ridges), each classed by the
barrier it crosses (arterial road, local road, compound wall, none) and weighted by the length of
the Voronoi ridge the two atoms share."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import Delaunay, QhullError

from grassroots.places.planning.atoms import Atom, Barrier, Edge, Road


@dataclass(frozen=True)
class EdgeArrays:
    """Edges as parallel arrays (what the planner uses inside): endpoints, barrier, ridge length."""

    a: np.ndarray
    b: np.ndarray
    barrier: np.ndarray
    length: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def from_edges(cls, edges: Sequence[Edge]) -> EdgeArrays:
        return cls(
            np.fromiter((e.a for e in edges), dtype=np.int64, count=len(edges)),
            np.fromiter((e.b for e in edges), dtype=np.int64, count=len(edges)),
            np.fromiter((int(e.barrier) for e in edges), dtype=np.int8, count=len(edges)),
            np.fromiter((e.length for e in edges), dtype=np.float64, count=len(edges)),
        )

    def to_edges(self) -> list[Edge]:
        return [
            Edge(int(a), int(b), Barrier(int(k)), float(n))
            for a, b, k, n in zip(self.a, self.b, self.barrier, self.length, strict=True)
        ]


def positions(atoms: Sequence[Atom]) -> np.ndarray:
    xy = np.empty((len(atoms), 2), dtype=np.float64)
    for i, atom in enumerate(atoms):
        xy[i, 0] = atom.x
        xy[i, 1] = atom.y
    return xy


def distinct_positions(xy: np.ndarray) -> np.ndarray:
    """The same points with exact duplicates nudged apart by a few millimetres (Voronoi needs
    distinct points; two entrances recorded at one position are still two atoms)."""
    if len(xy) < 2:
        return xy
    _, counts = np.unique(xy, axis=0, return_counts=True)
    if (counts == 1).all():
        return xy
    out = xy.copy()
    seen: dict[tuple[float, float], int] = {}
    for i in range(len(out)):
        key = (float(xy[i, 0]), float(xy[i, 1]))
        k = seen.get(key, 0)
        if k:
            out[i, 0] += 0.003 * k
            out[i, 1] += 0.002 * k
        seen[key] = k + 1
    return out


def delaunay_pairs(xy: np.ndarray, *, max_length: float | None = 400.0) -> tuple[np.ndarray, np.ndarray]:
    """Neighbouring pairs (m x 2, i < j) and the length of the Voronoi ridge between them.

    Pairs farther apart than ``max_length`` metres are dropped (Delaunay joins the two banks of a
    river or the two sides of an empty park; such atoms are not neighbours). A ridge length is
    capped at the distance of the two points (ridges near the hull run off to infinity)."""
    n = len(xy)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)
    xy = distinct_positions(xy)
    if n == 2:
        d = float(np.linalg.norm(xy[0] - xy[1]))
        near = max_length is None or d <= max_length
        return (
            (np.array([[0, 1]], dtype=np.int64), np.array([d]))
            if near
            else (np.empty((0, 2), dtype=np.int64), np.empty(0))
        )
    try:
        tri = Delaunay(xy)
    except (QhullError, ValueError):
        tri = None
    if tri is None or len(tri.coplanar):
        # fewer than three points, all on one line, or points Qhull left out: chain them along their main direction
        centred = xy - xy.mean(axis=0)
        direction = np.linalg.svd(centred, full_matrices=False)[2][0]
        order = np.argsort(centred @ direction)
        pairs = np.stack([order[:-1], order[1:]], axis=1)
        lengths = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
    else:
        pairs, lengths = _ridges(xy, tri.simplices)
    pairs = np.sort(pairs, axis=1)
    dist = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
    keep = np.ones(len(pairs), dtype=bool) if max_length is None else dist <= max_length
    return pairs[keep], np.maximum(lengths[keep], 1e-3)


def _ridges(xy: np.ndarray, simplices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Delaunay edges and the length of their Voronoi ridge (the segment between the circumcentres
    of the two triangles on either side; capped at the distance of the two points, which is also
    the length used for hull edges with one triangle)."""
    a, b, c = xy[simplices[:, 0]], xy[simplices[:, 1]], xy[simplices[:, 2]]
    d = 2 * (a[:, 0] * (b[:, 1] - c[:, 1]) + b[:, 0] * (c[:, 1] - a[:, 1]) + c[:, 0] * (a[:, 1] - b[:, 1]))
    d = np.where(np.abs(d) < 1e-12, 1e-12, d)
    sa, sb, sc = (a**2).sum(axis=1), (b**2).sum(axis=1), (c**2).sum(axis=1)
    ux = (sa * (b[:, 1] - c[:, 1]) + sb * (c[:, 1] - a[:, 1]) + sc * (a[:, 1] - b[:, 1])) / d
    uy = (sa * (c[:, 0] - b[:, 0]) + sb * (a[:, 0] - c[:, 0]) + sc * (b[:, 0] - a[:, 0])) / d
    centre = np.stack([ux, uy], axis=1)
    m = len(simplices)
    edges = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [2, 0]]])
    edges = np.sort(edges, axis=1)
    owner = np.concatenate([np.arange(m)] * 3)
    n = len(xy)
    key = edges[:, 0].astype(np.int64) * n + edges[:, 1]
    order = np.argsort(key, kind="stable")
    key, edges, owner = key[order], edges[order], owner[order]
    first = np.concatenate([[True], key[1:] != key[:-1]])
    starts = np.flatnonzero(first)
    pairs = edges[starts]
    dist = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
    lengths = dist.copy()
    twin = starts + 1
    has_twin = (twin < len(key)) & (key[np.minimum(twin, len(key) - 1)] == key[starts])
    t1, t2 = owner[starts[has_twin]], owner[twin[has_twin]]
    lengths[has_twin] = np.minimum(np.linalg.norm(centre[t1] - centre[t2], axis=1), dist[has_twin])
    return pairs.astype(np.int64), lengths


def classify(
    xy: np.ndarray, pairs: np.ndarray, compounds: Sequence[Hashable | None], roads: Sequence[Road] = ()
) -> np.ndarray:
    """Barrier of each pair: the highest road class its segment crosses; else a compound wall when
    the two atoms are not in the same compound (one of them may be outside any); else none."""
    barrier = np.zeros(len(pairs), dtype=np.int8)
    if len(pairs) == 0:
        return barrier
    if roads:
        segments = shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], axis=1))
        lines = [shapely.LineString(r.coords) for r in roads]
        kinds = np.array([int(r.kind) for r in roads], dtype=np.int8)
        tree = shapely.STRtree(lines)
        seg_idx, road_idx = tree.query(segments, predicate="intersects")
        np.maximum.at(barrier, seg_idx, kinds[road_idx])
    codes = _codes(compounds)
    ca, cb = codes[pairs[:, 0]], codes[pairs[:, 1]]
    wall = (ca != cb) & (barrier == int(Barrier.none))
    barrier[wall] = int(Barrier.wall)
    return barrier


def _codes(keys: Sequence[Hashable | None]) -> np.ndarray:
    """Integer code per key, -1 for ``None``."""
    table: dict[Hashable, int] = {}
    out = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        out[i] = -1 if key is None else table.setdefault(key, len(table))
    return out


def build_edges(atoms: Sequence[Atom], roads: Sequence[Road] = (), *, max_length: float | None = 400.0) -> EdgeArrays:
    """Delaunay adjacency of the atoms with barriers from the roads and compounds."""
    xy = positions(atoms)
    pairs, lengths = delaunay_pairs(xy, max_length=max_length)
    barrier = classify(xy, pairs, [a.compound for a in atoms], roads)
    return EdgeArrays(pairs[:, 0].copy(), pairs[:, 1].copy(), barrier, lengths)
