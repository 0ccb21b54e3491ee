"""The planner: atoms in, units within [floor, ceiling] out (or the reasons none exist).

Steps: coarsen (never-split compounds and buildings become single nodes) -> per parent and per
connected component, METIS k-way start with k clamped to [⌈H/ceiling⌉, ⌊H/floor⌋] (or the existing
units when re-planning) -> exact-bound repair along spanning trees -> local search for the soft
goals -> measures and polygons."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from grassroots.places.planning.adjacency import EdgeArrays, build_edges, positions
from grassroots.places.planning.atoms import Atom, Barrier, Edge, Road
from grassroots.places.planning.explain import (
    NoPlanError,
    Reason,
    atom_reason,
    forced_reason,
    isolated_reason,
    stuck_reason,
    total_reason,
    unit_range,
)
from grassroots.places.planning.local_search import improve
from grassroots.places.planning.partition import Graph, coarsen, components, metis_regions
from grassroots.places.planning.polygons import atom_cells, polsby_popper, union_by
from grassroots.places.planning.repair import State, repair


@dataclass(frozen=True)
class Level:
    """One level of the place tree to plan: its name and household bounds."""

    name: str
    floor: int
    ceiling: int
    target: float
    unit: tuple[str, str]  # (Chinese, English) name of one unit, for explanations


COMMUNITY = Level("community", 2000, 3000, 2500, ("社区", "community"))
GRID = Level("grid", 300, 500, 400, ("网格", "grid"))
MICRO = Level("micro", 60, 150, 100, ("微网格", "micro-grid"))
DEFAULT_LEVELS = (COMMUNITY, GRID, MICRO)
STUCK_ROUNDS = 2


@dataclass
class Unit:
    label: str
    parent: Hashable | None
    atoms: tuple[Hashable, ...]
    households: int
    residents: int
    within_bounds: bool
    contiguous: bool
    compounds_split: int  # compounds with atoms in this unit and in another
    boundary_on_roads: float  # share of the unit's inner boundary (metres) on roads
    boundary_on_walls: float  # share on compound walls
    households_moved: int  # households that were in another existing unit (re-planning)
    compactness: float | None = None  # Polsby-Popper of the polygon
    polygon: BaseGeometry | None = field(default=None, repr=False)
    existing: bool = False  # the label is that of an existing unit (it keeps its staff and history)


@dataclass
class Plan:
    units: list[Unit]
    assignment: dict[Hashable, str]
    floor: int
    ceiling: int
    target: float
    lower_bound: int  # Σ over parents of ⌈H/ceiling⌉: no plan has fewer units
    compounds_split: int
    compounds_split_avoidable: int  # split compounds that fit under the ceiling (hard constraint: 0)
    households_moved: int
    seconds: float
    reasons: tuple[Reason, ...] = ()  # why some parts could not be planned (only when not raised)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step

    @property
    def share_within_bounds(self) -> float:
        return sum(u.within_bounds for u in self.units) / len(self.units) if self.units else 1.0

    @property
    def share_contiguous(self) -> float:
        return sum(u.contiguous for u in self.units) / len(self.units) if self.units else 1.0

    @property
    def mean_compactness(self) -> float | None:
        values = [u.compactness for u in self.units if u.compactness is not None]
        return sum(values) / len(values) if values else None

    @property
    def ok(self) -> bool:
        return not self.reasons and all(u.within_bounds and u.contiguous for u in self.units)


def _edges(atoms: Sequence[Atom], edges: Sequence[Edge] | EdgeArrays | None, roads: Sequence[Road]) -> EdgeArrays:
    if edges is None:
        return build_edges(atoms, roads)
    if isinstance(edges, EdgeArrays):
        return edges
    return EdgeArrays.from_edges(list(edges))


def plan(
    atoms: Sequence[Atom],
    edges: Sequence[Edge] | EdgeArrays | None = None,
    *,
    floor: int = GRID.floor,
    ceiling: int = GRID.ceiling,
    target: float | None = None,
    existing: Mapping[Hashable, Hashable] | None = None,
    allow_split: Collection[Hashable] = (),
    roads: Sequence[Road] = (),
    clip: BaseGeometry | None = None,
    unit: tuple[str, str] = GRID.unit,
    seed: int = 0,
    polygons: bool = True,
    cells: np.ndarray | None = None,
    passes: int = 2,
    time_budget: float | None = None,
    raise_on_failure: bool = True,
) -> Plan:
    """Plan units of [floor, ceiling] households inside each parent of the atoms.

    ``edges``: atom adjacency by index (built from Delaunay and ``roads`` when omitted).
    ``existing``: atom id -> current unit label; re-planning keeps valid units and moves as few
    households as it can. ``allow_split``: compounds the user allows to be split although they fit
    under the ceiling (the way out the explanations suggest). Raises :class:`NoPlanError` (English
    ``str``, Chinese ``.message``) when some parent cannot be planned; with
    ``raise_on_failure=False`` the reasons are on the plan and the parts that could not be planned
    are left as they came out."""
    started = time.perf_counter()
    atoms = list(atoms)
    if not atoms:
        return Plan([], {}, floor, ceiling, target or (floor + ceiling) / 2, 0, 0, 0, 0, 0.0)
    if not 0 < floor <= ceiling:
        raise ValueError(f"bounds must satisfy 0 < floor <= ceiling, got [{floor}, {ceiling}]")
    target = float(target) if target is not None else (floor + ceiling) / 2
    rng = np.random.default_rng(seed)
    edge_arrays = _edges(atoms, edges, roads)
    parent_atoms = _parented(atoms)
    allowed = set(allow_split)
    loose = {i for i, a in enumerate(atoms) if a.compound is not None and a.compound in allowed}
    node_of, graph = coarsen(parent_atoms, edge_arrays, ceiling, loose)
    reasons: list[Reason] = []
    first_atom = np.full(graph.n, -1, dtype=np.int64)
    first_atom[node_of[::-1]] = np.arange(len(atoms))[::-1]
    for v in np.flatnonzero(graph.w > ceiling):
        i = int(first_atom[v])
        reasons.append(atom_reason(atoms[i].id, int(graph.w[v]), ceiling, parent=atoms[i].parent, unit=unit))
    reasons.extend(_isolated(graph, atoms, first_atom, floor, ceiling, unit))

    # existing units, mapped to nodes by the households of their atoms
    home = np.full(graph.n, -1, dtype=np.int64)
    original: dict[int, Hashable] = {}
    if existing:
        home, original = _existing_nodes(atoms, node_of, graph, existing)

    assign = np.full(graph.n, -1, dtype=np.int64)
    next_label = int(max(original) + 1) if original else 0
    by_parent: dict[Hashable, list[int]] = {}
    for node in range(graph.n):
        by_parent.setdefault(atoms[int(first_atom[node])].parent, []).append(node)
    lower_bound = 0
    zone = np.full(graph.n, -1, dtype=np.int64)
    todo: list[tuple[np.ndarray, int, int]] = []  # (component, lo, hi) to start
    for parent, nodes in by_parent.items():
        node_arr = np.asarray(nodes, dtype=np.int64)
        total = int(graph.w[node_arr].sum())
        lower_bound += math.ceil(total / ceiling)
        whole = total_reason(total, floor, ceiling, parent=parent, unit=unit)
        if whole is not None:
            reasons.append(whole)
            continue
        for part in components(graph, node_arr):
            zone[part] = int(zone.max()) + 1
            h = int(graph.w[part].sum())
            lo, hi = unit_range(h, floor, ceiling)
            if lo > hi:
                ids = tuple(atoms[i].id for i in np.flatnonzero(np.isin(node_of, part)))
                named = (
                    f"一块孤立片区（{len(ids)}栋/单元，如「{ids[0]}」）",
                    f"a detached part of {len(ids)} atoms ({ids[0]!r}, …)",
                )
                reason = total_reason(h, floor, ceiling, parent=parent, unit=unit, part=named, atoms=ids)
                if reason is not None:
                    reasons.append(reason)
                continue
            todo.append((part, lo, hi))
    # forced groups, in parents whose totals could be cut (else the total is the reason)
    whole_failed = {r.parent for r in reasons if r.code in ("parent_total", "component_total")}
    reasons.extend(r for r in _forced(graph, atoms, first_atom, floor, ceiling, unit) if r.parent not in whole_failed)
    if reasons and raise_on_failure:  # proved before any search
        raise NoPlanError(reasons)
    for part, lo, hi in todo:
        if existing and (home[part] >= 0).any():
            assign[part] = _fill(graph, part, home)
            continue
        h = int(graph.w[part].sum())
        k = int(min(max(round(h / target), lo), hi))
        parts_of = metis_regions(graph, part, k, target, floor, ceiling, seed=seed)
        assign[part] = parts_of + next_label
        next_label += int(parts_of.max()) + 1

    timings = {"coarsen+start": time.perf_counter() - started}
    mark = time.perf_counter()
    state = State.build(graph, assign, zone)
    state.next_label = max(state.next_label, next_label)
    before = {u: frozenset(m) for u, m in state.members.items()}
    failed = repair(state, floor, ceiling, target, rng)
    for _ in range(STUCK_ROUNDS):  # stuck units: let their neighbourhood rebalance towards the target, retry
        if not failed:
            break
        near: set[int] = set()
        for u in failed:
            near.add(u)
            for t in state.unit_neighbours(u):
                near.add(t)
                near.update(state.unit_neighbours(t))
        improve(state, floor, ceiling, target, rng, movable=near, balance_weight=20.0, passes=2)
        failed = repair(state, floor, ceiling, target, rng, max_group_nodes=300, check_pieces=False)
    if failed:  # last resort: backtracking over the same neighbourhoods
        failed = repair(state, floor, ceiling, target, rng, max_group_nodes=300, check_pieces=False, search=True)
    for u in failed:
        reasons.append(_stuck(state, u, atoms, first_atom, floor, ceiling, unit))
    if reasons and raise_on_failure:
        raise NoPlanError(reasons)
    timings["repair"] = time.perf_counter() - mark
    mark = time.perf_counter()
    deadline = started + time_budget if time_budget is not None else None
    if existing:
        touched = {u for u, m in state.members.items() if before.get(u) != frozenset(m)}
        improve(state, floor, ceiling, target, rng, home=home, movable=touched, passes=passes, deadline=deadline)
    else:
        improve(state, floor, ceiling, target, rng, passes=passes, deadline=deadline)

    timings["local_search"] = time.perf_counter() - mark
    mark = time.perf_counter()
    labels = _labels(atoms, node_of, state, first_atom, original)
    atom_labels = [labels.get(int(state.assign[node_of[i]]), "") for i in range(len(atoms))]
    units = measure(
        atoms,
        edge_arrays,
        atom_labels,
        floor=floor,
        ceiling=ceiling,
        existing=existing,
        kept=set(labels.values()) & {str(x) for x in original.values()},
        polygons=polygons,
        clip=clip,
        cells=cells,
        groups=node_of,
    )
    timings["measure"] = time.perf_counter() - mark
    split, avoidable = compound_splits(atoms, atom_labels, ceiling, allowed)
    return Plan(
        units=units,
        assignment={a.id: label for a, label in zip(atoms, atom_labels, strict=True) if label},
        floor=floor,
        ceiling=ceiling,
        target=target,
        lower_bound=lower_bound,
        compounds_split=split,
        compounds_split_avoidable=avoidable,
        households_moved=sum(u.households_moved for u in units),
        seconds=time.perf_counter() - started,
        reasons=tuple(reasons),
        timings=timings,
    )


def _parented(atoms: list[Atom]) -> list[Atom]:
    """Atoms whose compound and building keys include the parent, so no group crosses parents."""
    if all(a.parent is None for a in atoms):
        return atoms
    return [
        replace(
            a,
            compound=None if a.compound is None else (a.parent, a.compound),
            building=(a.parent, a.building_key),
        )
        for a in atoms
    ]


def _existing_nodes(
    atoms: Sequence[Atom], node_of: np.ndarray, graph: Graph, existing: Mapping[Hashable, Hashable]
) -> tuple[np.ndarray, dict[int, Hashable]]:
    codes: dict[tuple[Hashable, Hashable], int] = {}
    votes: dict[int, dict[int, int]] = {}
    for i, atom in enumerate(atoms):
        label = existing.get(atom.id)
        if label is None:
            continue
        key = (atom.parent, label)
        c = codes.setdefault(key, len(codes))
        node = int(node_of[i])
        votes.setdefault(node, {})
        votes[node][c] = votes[node].get(c, 0) + atom.households + 1
    home = np.full(graph.n, -1, dtype=np.int64)
    for node, counts in votes.items():
        home[node] = max(counts.items(), key=lambda kv: kv[1])[0]
    return home, {c: key[1] for key, c in codes.items()}


def _fill(graph: Graph, part: np.ndarray, home: np.ndarray) -> np.ndarray:
    """Existing units on a component; nodes without one join a neighbouring unit."""
    labels = home[part].copy()
    index = {int(v): i for i, v in enumerate(part)}
    while (labels < 0).any():
        changed = False
        for i in np.flatnonzero(labels < 0):
            for x in graph.neighbours(int(part[i])):
                j = index.get(int(x))
                if j is not None and labels[j] >= 0:
                    labels[i] = labels[j]
                    changed = True
                    break
        if not changed:
            break
    return labels


def _name(graph: Graph, v: int, atoms: Sequence[Atom], first_atom: np.ndarray) -> Hashable:
    """What the user calls node v: its compound, building or atom."""
    atom = atoms[int(first_atom[v])]
    kind = graph.key[v][0]  # type: ignore[index]
    name = atom.compound if kind == "c" else (atom.building if atom.building is not None else atom.id)
    if kind == "c" and isinstance(name, tuple) and atom.parent is not None:
        name = name[-1]
    return name


def _isolated(
    graph: Graph, atoms: Sequence[Atom], first_atom: np.ndarray, floor: int, ceiling: int, unit: tuple[str, str]
) -> list[Reason]:
    """Nodes under the floor whose every neighbour would take them over the ceiling: no plan can
    hold them (the commonest way a city has no plan)."""
    out: list[Reason] = []
    small = np.flatnonzero(graph.w < floor)
    if not len(small):
        return out
    degree = np.diff(graph.indptr)
    nbr_w = graph.w[graph.indices]
    has = degree > 0
    lightest = np.full(graph.n, np.iinfo(np.int64).max)
    lightest[has] = np.minimum.reduceat(nbr_w, graph.indptr[:-1][has])
    for v in small[(graph.w[small] + lightest[small] > ceiling) & has[small]].tolist():
        nbrs = graph.neighbours(v)
        out.append(
            isolated_reason(
                _name(graph, v, atoms, first_atom),
                int(graph.w[v]),
                [(_name(graph, int(x), atoms, first_atom), int(graph.w[x])) for x in nbrs],
                floor,
                ceiling,
                parent=atoms[int(first_atom[v])].parent,
                unit=unit,
            )
        )
    return out


def _forced(
    graph: Graph, atoms: Sequence[Atom], first_atom: np.ndarray, floor: int, ceiling: int, unit: tuple[str, str]
) -> list[Reason]:
    """Proofs that no plan exists, one step beyond :func:`_isolated`.

    A node under the floor must share its unit with at least one neighbour, and only with one that
    keeps the pair under the ceiling. A node with exactly one such neighbour is therefore forced to
    share its unit with it: the two are contracted into one group, and the same holds of groups.
    When a group under the floor is left with no neighbour it can join (typically two compounds of
    280 households whose only possible partner is the same 81-household compound), no plan exists.
    Every step is forced, so the claim is exact. Neighbours are taken inside the same parent only."""
    n = graph.n
    if not n:
        return []
    parent_code: dict[Hashable, int] = {}
    pcode = np.fromiter(
        (parent_code.setdefault(atoms[int(first_atom[v])].parent, len(parent_code)) for v in range(n)),
        dtype=np.int64,
        count=n,
    )
    w = graph.w
    rows = np.repeat(np.arange(n), np.diff(graph.indptr))
    cols = graph.indices
    fits = (pcode[rows] == pcode[cols]) & (w[rows] + w[cols] <= ceiling)
    count = np.bincount(rows[fits], minlength=n)
    work = [int(v) for v in np.flatnonzero((w < floor) & (count == 1))]
    if not work:
        return []
    root: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    weight: dict[int, int] = {}
    steps: dict[int, list[tuple[str, int, str, int]]] = {}  # group -> forced joins: (group, h, partner, h)
    kinds = [k[0] if isinstance(k, tuple) else "" for k in graph.key]

    def find(v: int) -> int:
        while root.get(v, v) != v:
            v = root[v]
        return v

    def group_of(v: int) -> tuple[int, list[int], int]:
        r = find(v)
        return r, members.get(r, [r]), weight.get(r, int(w[r]))

    def neighbour_groups(r: int, nodes: list[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for v in nodes:
            for x in graph.neighbours(v).tolist():
                if pcode[x] == pcode[v]:
                    rx = find(x)
                    if rx != r:
                        out[rx] = weight.get(rx, int(w[rx]))
        return out

    lightest = np.full(n, np.iinfo(np.int64).max)
    has = np.diff(graph.indptr) > 0
    lightest[has] = np.minimum.reduceat(w[cols], graph.indptr[:-1][has])
    name = functools.partial(_name, graph, atoms=atoms, first_atom=first_atom)
    failed: set[int] = set()
    out: list[Reason] = []
    while work:
        r, nodes, h = group_of(work.pop())
        if h >= floor or r in failed:
            continue
        around = neighbour_groups(r, nodes)
        partners = [t for t, ht in around.items() if h + ht <= ceiling]
        if not partners:
            failed.add(r)
            if len(nodes) == 1 and int(w[r]) + int(lightest[r]) > ceiling:
                continue  # isolated from the start: _isolated names it
            chain = [step for t in [r, *around] for step in steps.get(t, [])]
            near = [members.get(t, [t]) for t in around]
            # what a user may allow to be split: compounds (the group's own first), not loose buildings
            splittable = [name(v=v) for v in [*nodes, *(v for g in near for v in g)] if kinds[v] == "c"]
            out.append(
                forced_reason(
                    [(name(v=v), int(w[v])) for v in nodes],
                    h,
                    [([name(v=v) for v in g], ht) for g, ht in zip(near, around.values(), strict=True)],
                    chain,
                    floor,
                    ceiling,
                    splittable=splittable,
                    parent=atoms[int(first_atom[r])].parent,
                    unit=unit,
                )
            )
        elif len(partners) == 1:
            t = partners[0]
            _, t_nodes, ht = group_of(t)
            root[t] = r
            members[r] = nodes + t_nodes
            weight[r] = h + ht
            step = (" + ".join(str(name(v=v)) for v in nodes), h, " + ".join(str(name(v=v)) for v in t_nodes), ht)
            steps[r] = [*steps.pop(r, []), *steps.pop(t, []), step]
            members.pop(t, None)
            weight.pop(t, None)
            work.extend(x for v in members[r] for x in graph.neighbours(v).tolist() if find(x) != r)
            work.append(r)
    return out


def _stuck(
    state: State,
    u: int,
    atoms: Sequence[Atom],
    first_atom: np.ndarray,
    floor: int,
    ceiling: int,
    unit: tuple[str, str],
) -> Reason:
    nodes = set(state.members[u])
    for t in state.unit_neighbours(u):
        nodes |= state.members[t]
    groups = [
        (_name(state.graph, v, atoms, first_atom), int(state.graph.w[v]))
        for v in sorted(nodes, key=lambda v: -int(state.graph.w[v]))
    ]
    total = int(sum(h for _, h in groups))
    return stuck_reason(groups, total, floor, ceiling, parent=atoms[int(first_atom[min(nodes)])].parent, unit=unit)


def _labels(
    atoms: Sequence[Atom], node_of: np.ndarray, state: State, first_atom: np.ndarray, original: dict[int, Hashable]
) -> dict[int, str]:
    """Final label of each state unit: the existing label it kept (the largest piece keeps it),
    else a number in reading order (north to south in bands, then west to east) per parent."""
    xy = positions(atoms)
    out: dict[int, str] = {}
    taken: set[str] = set()
    by_size = sorted(state.members, key=lambda u: -state.weight[u])
    for u in by_size:
        if u in original and str(original[u]) not in taken:
            out[u] = str(original[u])
            taken.add(out[u])
    rest: dict[Hashable, list[tuple[float, float, int]]] = {}
    unit_of_atom = state.assign[node_of]
    size = int(unit_of_atom.max()) + 1 if len(unit_of_atom) else 0
    valid = unit_of_atom >= 0
    count = np.bincount(unit_of_atom[valid], minlength=size)
    sx = np.bincount(unit_of_atom[valid], weights=xy[valid, 0], minlength=size)
    sy = np.bincount(unit_of_atom[valid], weights=xy[valid, 1], minlength=size)
    some_atom = np.zeros(size, dtype=np.int64)
    some_atom[unit_of_atom[valid]] = np.flatnonzero(valid)
    for u in state.members:
        if u in out:
            continue
        parent = atoms[int(some_atom[u])].parent
        rest.setdefault(parent, []).append((sx[u] / count[u], sy[u] / count[u], u))
    for parent, items in rest.items():
        band = 400.0
        items.sort(key=lambda t: (-round(t[1] / band), t[0]))
        n = 0
        for _, _, u in items:
            n += 1
            label = f"{parent}/{n:03d}" if parent is not None else f"{n:03d}"
            while label in taken:
                n += 1
                label = f"{parent}/{n:03d}" if parent is not None else f"{n:03d}"
            out[u] = label
            taken.add(label)
    return out


def compound_splits(
    atoms: Sequence[Atom], labels: Sequence[Hashable], ceiling: int, allowed: Collection[Hashable] = ()
) -> tuple[int, int]:
    """(compounds whose atoms lie in more than one unit, those of them within the ceiling and not
    allowed to be split)."""
    units: dict[tuple[Hashable, Hashable], set[Hashable]] = {}
    hh: dict[tuple[Hashable, Hashable], int] = {}
    for atom, label in zip(atoms, labels, strict=True):
        if atom.compound is None:
            continue
        key = (atom.parent, atom.compound)
        units.setdefault(key, set()).add(label)
        hh[key] = hh.get(key, 0) + atom.households
    split = [c for c, s in units.items() if len(s) > 1]
    return len(split), sum(1 for c in split if hh[c] <= ceiling and c[1] not in allowed)


def measure(
    atoms: Sequence[Atom],
    edges: EdgeArrays,
    labels: Sequence[Hashable],
    *,
    floor: int,
    ceiling: int,
    existing: Mapping[Hashable, Hashable] | None = None,
    kept: set[str] | None = None,
    polygons: bool = True,
    clip: BaseGeometry | None = None,
    cells: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> list[Unit]:
    """The measures of any assignment of atoms to units (also used for the baselines).

    Contiguity is on the atom adjacency, where atoms of one compound (or one building) also count
    as joined (a compound is walkable inside its walls)."""
    n = len(atoms)
    codes: dict[Hashable, int] = {}
    lab = np.fromiter((codes.setdefault(label, len(codes)) for label in labels), dtype=np.int64, count=n)
    names = list(codes)
    k = len(names)
    hh = np.fromiter((a.households for a in atoms), dtype=np.int64, count=n)
    rs = np.fromiter((a.residents for a in atoms), dtype=np.int64, count=n)
    households = np.bincount(lab, weights=hh, minlength=k).astype(np.int64)
    residents = np.bincount(lab, weights=rs, minlength=k).astype(np.int64)

    # contiguity
    same = lab[edges.a] == lab[edges.b]
    ea0, eb0 = edges.a[same], edges.b[same]
    group_codes: dict[Hashable, int] = {}
    grp = (
        groups
        if groups is not None
        else np.fromiter(
            (
                group_codes.setdefault(
                    (a.parent, a.compound) if a.compound is not None else a.building_key, len(group_codes)
                )
                for a in atoms
            ),
            dtype=np.int64,
            count=n,
        )
    )
    order = np.lexsort((lab, grp))
    chain = (grp[order[1:]] == grp[order[:-1]]) & (lab[order[1:]] == lab[order[:-1]])
    ea = np.concatenate([ea0.astype(np.int64), order[:-1][chain]])
    eb = np.concatenate([eb0.astype(np.int64), order[1:][chain]])
    graph = coo_matrix((np.ones(len(ea)), (ea, eb)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    pieces = np.unique(np.stack([lab, comp], axis=1), axis=0)
    piece_count = np.bincount(pieces[:, 0], minlength=k)

    # compounds split per unit
    cmp_codes: dict[Hashable, int] = {}
    cmp = np.fromiter(
        (-1 if a.compound is None else cmp_codes.setdefault((a.parent, a.compound), len(cmp_codes)) for a in atoms),
        dtype=np.int64,
        count=n,
    )
    has = cmp >= 0
    pairs = np.unique(np.stack([cmp[has], lab[has]], axis=1), axis=0)
    per_compound = np.bincount(pairs[:, 0], minlength=len(cmp_codes))
    split_pairs = pairs[per_compound[pairs[:, 0]] > 1]
    compounds_split = np.bincount(split_pairs[:, 1], minlength=k)

    # boundary shares
    cut = ~same
    length = edges.length[cut]
    barrier = edges.barrier[cut]
    ends = np.concatenate([lab[edges.a[cut]], lab[edges.b[cut]]])
    total_len = np.bincount(ends, weights=np.concatenate([length, length]), minlength=k)
    road = np.where((barrier == int(Barrier.local_road)) | (barrier == int(Barrier.arterial)), length, 0.0)
    wall = np.where(barrier == int(Barrier.wall), length, 0.0)
    road_len = np.bincount(ends, weights=np.concatenate([road, road]), minlength=k)
    wall_len = np.bincount(ends, weights=np.concatenate([wall, wall]), minlength=k)

    # households moved
    moved = np.zeros(k, dtype=np.int64)
    if existing:
        for i, atom in enumerate(atoms):
            before = existing.get(atom.id)
            if before is not None and str(before) != str(labels[i]):
                moved[lab[i]] += atom.households

    shapes: dict[Hashable, BaseGeometry] = {}
    if polygons:
        if cells is None:
            cells = atom_cells(positions(atoms), clip)
        shapes = union_by(cells, labels)
    parent_of: dict[int, Hashable] = {}
    members: list[list[Hashable]] = [[] for _ in range(k)]
    for i, atom in enumerate(atoms):
        parent_of.setdefault(int(lab[i]), atom.parent)
        members[lab[i]].append(atom.id)
    units = []
    for j, name in enumerate(names):
        geom = shapes.get(name)
        units.append(
            Unit(
                label=str(name),
                parent=parent_of[j],
                atoms=tuple(members[j]),
                households=int(households[j]),
                residents=int(residents[j]),
                within_bounds=bool(floor <= households[j] <= ceiling),
                contiguous=bool(piece_count[j] == 1),
                compounds_split=int(compounds_split[j]),
                boundary_on_roads=float(road_len[j] / total_len[j]) if total_len[j] else 0.0,
                boundary_on_walls=float(wall_len[j] / total_len[j]) if total_len[j] else 0.0,
                households_moved=int(moved[j]),
                compactness=polsby_popper(geom) if geom is not None else None,
                polygon=geom,
                existing=bool(kept and str(name) in kept),
            )
        )
    return units


def plan_hierarchy(
    atoms: Sequence[Atom],
    edges: Sequence[Edge] | EdgeArrays | None = None,
    *,
    levels: tuple[Level, Level, Level] = DEFAULT_LEVELS,
    roads: Sequence[Road] = (),
    clip: BaseGeometry | None = None,
    seed: int = 0,
    polygons: bool = True,
    allow_split: Collection[Hashable] = (),
) -> list[Plan]:
    """Communities, grids and micro-grids with exact nesting: [community plan, grid plan, micro plan].

    Grids are planned first (inside each atom's parent, if any: e.g. a subdistrict); communities are
    then planned over the grids (each grid an atom), so every community is a union of whole grids and
    no community is drawn that its grids cannot fill; micro-grids are planned inside each grid. Labels
    nest: ``community/grid/micro``. Polygons of all levels are unions of the same atom cells, so they
    nest exactly too. (To plan grids inside existing communities, call :func:`plan` with each atom's
    ``parent`` set to its community.)"""
    top, middle, bottom = levels
    atoms = list(atoms)
    edge_arrays = _edges(atoms, edges, roads)
    cells = atom_cells(positions(atoms), clip) if polygons else None
    grids = plan(
        atoms,
        edge_arrays,
        floor=middle.floor,
        ceiling=middle.ceiling,
        target=middle.target,
        unit=middle.unit,
        seed=seed,
        polygons=False,
        allow_split=allow_split,
    )
    # grids that share a compound small enough to stay in one community are glued together
    cluster_of = _glue(atoms, grids, top.ceiling)
    clustered = replace(grids, assignment={a: cluster_of[label] for a, label in grids.assignment.items()})
    grid_atoms, grid_edges = _units_as_atoms(atoms, edge_arrays, clustered)
    communities = plan(
        grid_atoms,
        grid_edges,
        floor=top.floor,
        ceiling=top.ceiling,
        target=top.target,
        unit=top.unit,
        seed=seed,
        polygons=False,
    )
    # grid labels under their community, numbered in the community's reading order
    grid_atoms_fine, _ = _units_as_atoms(atoms, edge_arrays, grids)
    community_of_grid = {str(g.id): communities.assignment[cluster_of[str(g.id)]] for g in grid_atoms_fine}
    renamed: dict[str, str] = {}
    counters: dict[str, int] = {}
    for g in sorted(grid_atoms_fine, key=lambda g: (community_of_grid[str(g.id)], -round(g.y / 400.0), g.x)):
        c = community_of_grid[str(g.id)]
        counters[c] = counters.get(c, 0) + 1
        renamed[str(g.id)] = f"{c}/{counters[c]:03d}"
    grid_of = {a.id: renamed[grids.assignment[a.id]] for a in atoms}
    community_of = {a.id: community_of_grid[grids.assignment[a.id]] for a in atoms}
    micro_atoms = [replace(a, parent=grid_of[a.id]) for a in atoms]
    micros = plan(
        micro_atoms,
        edge_arrays,
        floor=bottom.floor,
        ceiling=bottom.ceiling,
        target=bottom.target,
        unit=bottom.unit,
        seed=seed,
        polygons=polygons,
        cells=cells,
        allow_split=allow_split,
    )

    def level_plan(result: Plan, labels: Mapping[Hashable, str], parents: Mapping[Hashable, str] | None) -> Plan:
        level_atoms = [replace(a, parent=parents[a.id]) for a in atoms] if parents else atoms
        units = measure(
            level_atoms,
            edge_arrays,
            [labels[a.id] for a in atoms],
            floor=result.floor,
            ceiling=result.ceiling,
            polygons=polygons,
            cells=cells,
        )
        split, avoidable = compound_splits(level_atoms, [labels[a.id] for a in atoms], result.ceiling, set(allow_split))
        return replace(
            result, units=units, assignment=dict(labels), compounds_split=split, compounds_split_avoidable=avoidable
        )

    return [level_plan(communities, community_of, None), level_plan(grids, grid_of, community_of), micros]


def _glue(atoms: Sequence[Atom], result: Plan, ceiling: int) -> dict[str, str]:
    """Cluster label of each unit: units sharing a compound of at most ``ceiling`` households
    (which must stay whole at the level above) are one cluster."""
    parent = {u.label: u.label for u in result.units}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    units: dict[tuple[Hashable, Hashable], set[str]] = {}
    hh: dict[tuple[Hashable, Hashable], int] = {}
    for atom in atoms:
        if atom.compound is not None:
            key = (atom.parent, atom.compound)
            units.setdefault(key, set()).add(result.assignment[atom.id])
            hh[key] = hh.get(key, 0) + atom.households
    for key, labels in units.items():
        if len(labels) > 1 and hh[key] <= ceiling:
            first, *rest = sorted(labels)
            for other in rest:
                parent[find(other)] = find(first)
    return {label: find(label) for label in parent}


def _units_as_atoms(atoms: Sequence[Atom], edges: EdgeArrays, result: Plan) -> tuple[list[Atom], EdgeArrays]:
    """Each unit of a plan as one atom (at its households' centre), with edges between touching
    units classed by the barrier along most of their shared boundary."""
    xy = positions(atoms)
    labels = [result.assignment[a.id] for a in atoms]
    index: dict[str, int] = {}
    lab = np.fromiter((index.setdefault(label, len(index)) for label in labels), dtype=np.int64, count=len(atoms))
    k = len(index)
    hh = np.fromiter((a.households for a in atoms), dtype=np.float64, count=len(atoms))
    w = np.bincount(lab, weights=hh, minlength=k)
    cx = np.bincount(lab, weights=xy[:, 0] * hh, minlength=k) / np.maximum(w, 1)
    cy = np.bincount(lab, weights=xy[:, 1] * hh, minlength=k) / np.maximum(w, 1)
    residents = np.bincount(lab, weights=[a.residents for a in atoms], minlength=k)
    parent: dict[int, Hashable] = {}
    for i, atom in enumerate(atoms):
        parent.setdefault(int(lab[i]), atom.parent)
    names = list(index)
    unit_atoms = [
        Atom(names[j], float(cx[j]), float(cy[j]), int(w[j]), int(residents[j]), None, None, parent[j])
        for j in range(k)
    ]
    ua, ub = lab[edges.a], lab[edges.b]
    cut = ua != ub
    lo, hi = np.minimum(ua[cut], ub[cut]), np.maximum(ua[cut], ub[cut])
    by_pair: dict[tuple[int, int], dict[int, float]] = {}
    for a, b, barrier, length in zip(
        lo.tolist(), hi.tolist(), edges.barrier[cut].tolist(), edges.length[cut].tolist(), strict=True
    ):
        per = by_pair.setdefault((a, b), {})
        per[barrier] = per.get(barrier, 0.0) + length
    pairs = list(by_pair)
    return unit_atoms, EdgeArrays(
        np.array([p[0] for p in pairs], dtype=np.int64),
        np.array([p[1] for p in pairs], dtype=np.int64),
        np.array([max(by_pair[p], key=by_pair[p].__getitem__) for p in pairs], dtype=np.int8),
        np.array([sum(by_pair[p].values()) for p in pairs], dtype=np.float64),
    )
