"""Independent checks of the planner's hard constraints (written apart from the engine's own measures)."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from grassroots.places.planning import Atom, EdgeArrays, Plan


def assert_hard_constraints(
    atoms: list[Atom], edges: EdgeArrays, result: Plan, *, allowed: frozenset = frozenset()
) -> None:
    floor, ceiling = result.floor, result.ceiling
    ids = [a.id for a in atoms]
    assert sorted(map(str, result.assignment)) == sorted(map(str, ids)), "every atom in exactly one unit"
    members: dict[str, list[int]] = defaultdict(list)
    for i, atom in enumerate(atoms):
        members[result.assignment[atom.id]].append(i)
    assert {u.label for u in result.units} == set(members)
    # bounds
    for label, idx in members.items():
        hh = sum(atoms[i].households for i in idx)
        assert floor <= hh <= ceiling, f"unit {label} has {hh} households outside [{floor}, {ceiling}]"
    # one parent per unit (nesting)
    for label, idx in members.items():
        assert len({atoms[i].parent for i in idx}) == 1, f"unit {label} crosses parents"
    # compounds under the ceiling whole; buildings under the ceiling whole
    compound_units: dict[object, set[str]] = defaultdict(set)
    compound_hh: dict[object, int] = defaultdict(int)
    building_units: dict[object, set[str]] = defaultdict(set)
    building_hh: dict[object, int] = defaultdict(int)
    for atom in atoms:
        label = result.assignment[atom.id]
        if atom.compound is not None:
            compound_units[(atom.parent, atom.compound)].add(label)
            compound_hh[(atom.parent, atom.compound)] += atom.households
        if atom.building is not None:
            building_units[(atom.parent, atom.building)].add(label)
            building_hh[(atom.parent, atom.building)] += atom.households
    for key, units in compound_units.items():
        if compound_hh[key] <= ceiling and key[1] not in allowed:
            assert len(units) == 1, f"compound {key} ({compound_hh[key]} households) split over {units}"
    for key, units in building_units.items():
        if building_hh[key] <= ceiling:
            assert len(units) == 1, f"building {key} ({building_hh[key]} households) split over {units}"
    # contiguity: atom adjacency; atoms of a compound or building kept whole are joined (walkable inside)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(atoms)))
    graph.add_edges_from(zip(edges.a.tolist(), edges.b.tolist(), strict=True))
    groups: dict[object, list[int]] = defaultdict(list)
    for i, atom in enumerate(atoms):
        ckey = (atom.parent, atom.compound)
        if atom.compound is not None and compound_hh[ckey] <= ceiling and atom.compound not in allowed:
            groups[("c", *ckey)].append(i)
        elif atom.building is not None and building_hh[(atom.parent, atom.building)] <= ceiling:
            groups[("b", atom.parent, atom.building)].append(i)
    for idx in groups.values():
        graph.add_edges_from((idx[0], j) for j in idx[1:])
    for label, idx in members.items():
        assert nx.is_connected(graph.subgraph(idx)), f"unit {label} is not contiguous"
    assert result.compounds_split_avoidable == 0
    assert result.share_within_bounds == 1.0
    assert result.share_contiguous == 1.0
