"""Exact nesting community -> grid -> micro-grid, polygons, and the tree cut at the core of repair."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from grassroots.places.planning import COMMUNITY, GRID, MICRO, NoPlanError, build_edges, plan, plan_hierarchy
from grassroots.places.planning.adjacency import delaunay_pairs
from grassroots.places.planning.polygons import atom_cells, polsby_popper
from grassroots.places.planning.repair import cut_tree
from grassroots.places.planning.synthetic import generate_city
from tests.places.planning_helpers import assert_hard_constraints


@pytest.fixture(scope="module")
def hierarchy():
    for seed in range(5):  # the first generated city with a plan at every level
        city = generate_city(700, seed=seed, split_above=MICRO.ceiling)
        edges = build_edges(city.atoms, city.roads)
        try:
            return city, edges, plan_hierarchy(city.atoms, edges, clip=city.boundary)
        except NoPlanError:
            continue
    pytest.fail("no generated city had a plan at every level")


def test_each_level_meets_its_bounds_and_nests_in_the_level_above(hierarchy):
    city, _, (communities, grids, micros) = hierarchy
    for level, result in zip((COMMUNITY, GRID, MICRO), (communities, grids, micros), strict=True):
        assert (result.floor, result.ceiling) == (level.floor, level.ceiling)
        assert all(level.floor <= u.households <= level.ceiling for u in result.units)
        assert result.share_contiguous == 1.0
    for atom in city.atoms:
        grid = grids.assignment[atom.id]
        assert grid.startswith(communities.assignment[atom.id] + "/")
        assert micros.assignment[atom.id].startswith(grid + "/")


def test_grid_plan_inside_communities_meets_the_hard_constraints(hierarchy):
    from dataclasses import replace

    city, edges, (communities, grids, _) = hierarchy
    atoms = [replace(a, parent=communities.assignment[a.id]) for a in city.atoms]
    assert_hard_constraints(atoms, edges, grids)


def test_polygons_tile_the_area_and_nest(hierarchy):
    city, _, (communities, grids, micros) = hierarchy
    for result in (communities, grids, micros):
        union = shapely.union_all([u.polygon for u in result.units])
        assert union.area == pytest.approx(city.boundary.area, rel=1e-6)
        assert sum(u.polygon.area for u in result.units) == pytest.approx(city.boundary.area, rel=1e-6)
        assert all(0 < u.compactness <= 1 for u in result.units)
    by_label = {u.label: u.polygon for u in communities.units}
    for grid in grids.units:
        outside = grid.polygon.difference(by_label[grid.parent]).area
        assert outside <= 1e-6 * grid.polygon.area


def test_voronoi_cells_follow_atom_order():
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0], [50.0, 50.0]])
    cells = atom_cells(xy)
    for i, cell in enumerate(cells):
        assert cell.contains(shapely.Point(xy[i]))
    assert polsby_popper(shapely.Point(0, 0).buffer(10)) == pytest.approx(1.0, abs=0.01)
    assert polsby_popper(shapely.box(0, 0, 1, 1)) == pytest.approx(np.pi / 4)


def test_delaunay_neighbours_and_ridge_lengths_on_a_grid_of_points():
    xy = np.array([[x * 10.0, y * 10.0] for y in range(3) for x in range(3)]) + np.random.default_rng(1).normal(
        0, 0.01, (9, 2)
    )
    pairs, lengths = delaunay_pairs(xy)
    as_set = {tuple(p) for p in pairs.tolist()}
    assert (0, 1) in as_set and (0, 3) in as_set and (4, 5) in as_set
    side = {(0, 1): None, (3, 4): None, (4, 7): None}
    for (a, b), n in zip(pairs.tolist(), lengths, strict=True):
        if (a, b) in side:
            assert n == pytest.approx(10.0, abs=0.5)  # the shared Voronoi edge of two lattice cells


def tree(edges, n):
    adjacency = [[] for _ in range(n)]
    for a, b, c in edges:
        adjacency[a].append((b, c))
        adjacency[b].append((a, c))
    return adjacency


def test_tree_cut_is_exact_where_a_greedy_cut_fails():
    # a path 200-150-250-100-120 with bounds [300, 500]: the only cut is {200, 150} | {250, 100, 120};
    # cutting the first piece that reaches the floor near the far end ({100, 120} = 220) leads nowhere
    weights = [200, 150, 250, 100, 120]
    adjacency = tree([(i, i + 1, 1.0) for i in range(4)], 5)
    pieces = cut_tree(adjacency, weights, 300, 500, 400, np.random.default_rng(0))
    assert pieces is not None
    assert sorted(sorted(p) for p in pieces) == [[0, 1], [2, 3, 4]]


def test_tree_cut_reports_when_no_cut_exists():
    adjacency = tree([(0, 1, 1.0)], 2)
    assert cut_tree(adjacency, [255, 460], 300, 500, 400, np.random.default_rng(0)) is None


def test_cuts_prefer_roads():
    # a star: two arms of 320 households, either can be cut off ({3} or {1, 4}, the rest is 480);
    # the arm behind a road (cheap edge) is the one cut
    adjacency = tree([(0, 1, 5.0), (0, 2, 5.0), (0, 3, 0.2), (1, 4, 5.0)], 5)
    weights = [100, 170, 60, 320, 150]
    pieces = cut_tree(adjacency, weights, 300, 500, 400, np.random.default_rng(0))
    assert pieces is not None and [3] in pieces


def test_grid_level_plan_of_a_city_with_entrance_atoms_keeps_buildings_whole():
    city = generate_city(300, seed=4, split_above=MICRO.ceiling)
    edges = build_edges(city.atoms, city.roads)
    try:
        result = plan(city.atoms, edges, floor=GRID.floor, ceiling=GRID.ceiling, polygons=False)
    except NoPlanError as error:
        allowed = frozenset(r.atoms[0] for r in error.reasons if r.code in ("isolated", "forced"))
        result = plan(city.atoms, edges, polygons=False, allow_split=allowed)
    else:
        allowed = frozenset()
    assert any(a.building is not None for a in city.atoms)
    assert_hard_constraints(city.atoms, edges, result, allowed=allowed)


def test_communities_meet_their_bounds_and_keep_compounds_whole(hierarchy):
    city, edges, (communities, _, _) = hierarchy
    assert_hard_constraints(city.atoms, edges, communities)  # compounds up to 3,000 households whole
