"""Where no plan exists the planner says exactly why, in Chinese for users and English for logs."""

from __future__ import annotations

import pytest

from grassroots.places.planning import Atom, Barrier, Edge, NoPlanError, plan
from grassroots.places.planning.explain import unit_range


def row(households, *, compound=None, y=0.0, start=0):
    return [Atom(f"B{start + i}", (start + i) * 30.0, y, h, h * 3, None, compound) for i, h in enumerate(households)]


def test_a_parent_of_550_households_has_no_grid_plan_and_says_why():
    atoms = row([55] * 10)
    with pytest.raises(NoPlanError) as caught:
        plan(atoms)
    error = caught.value
    assert [r.code for r in error.reasons] == ["parent_total"]
    assert "550" in str(error) and "one grid would hold 550" in str(error) and "275" in str(error)
    assert "共550户" in error.message and "超过上限500户" in error.message and "平均每个275户" in error.message
    assert "低于下限300户" in error.message


@pytest.mark.parametrize(
    ("households", "feasible"),
    [(299, False), (300, True), (500, True), (501, False), (599, False), (600, True), (1001, True)],
)
def test_the_arithmetic_bound_matches_the_planner(households, feasible):
    lo, hi = unit_range(households, 300, 500)
    assert (lo <= hi) is feasible
    atoms = row([households // 10] * 9 + [households - 9 * (households // 10)])
    if feasible:
        result = plan(atoms, polygons=False)
        assert all(300 <= u.households <= 500 for u in result.units)
    else:
        with pytest.raises(NoPlanError):
            plan(atoms, polygons=False)


def test_too_few_households_for_one_unit():
    with pytest.raises(NoPlanError) as caught:
        plan(row([40, 50]))
    assert "fewer than the floor of 300" in str(caught.value)
    assert "少于下限300户" in caught.value.message


def test_an_entrance_over_the_ceiling_cannot_be_split_further():
    atoms = [Atom("T1-1", 0, 0, 520, 1400, "T1"), Atom("T1-2", 10, 0, 300, 800, "T1"), *row([200, 200], start=5)]
    with pytest.raises(NoPlanError) as caught:
        plan(atoms)
    reasons = [r for r in caught.value.reasons if r.code == "atom_over_ceiling"]
    assert len(reasons) == 1 and reasons[0].atoms == ("T1-1",)
    assert "520" in reasons[0].zh and "单元" in reasons[0].zh


def test_a_compound_every_neighbour_would_overfill_is_named_with_its_neighbours():
    # compound C6 (255) touches only C5 (460), C7 (311) and C22 (262): each pair is over 500
    atoms = [
        Atom("a", 0, 0, 255, 700, None, "C6"),
        Atom("b", 100, 0, 460, 1200, None, "C5"),
        Atom("c", 0, 100, 311, 900, None, "C7"),
        Atom("d", -100, 0, 262, 700, None, "C22"),
    ]
    edges = [Edge(0, 1, Barrier.wall), Edge(0, 2, Barrier.wall), Edge(0, 3, Barrier.local_road)]
    with pytest.raises(NoPlanError) as caught:
        plan(atoms, edges)
    isolated = {r.atoms[0]: r for r in caught.value.reasons if r.code == "isolated"}
    assert set(isolated) == {"C6", "C22"}  # C22 (262) touches only C6: 517 together
    for name in ("C5 (460)", "C7 (311)", "C22 (262)"):
        assert name in isolated["C6"].en
    assert "「C6」共255户" in isolated["C6"].zh and "不能拆分" in isolated["C6"].zh


def test_allowing_the_named_compound_to_be_split_gives_a_plan():
    # C1 (two buildings, 280) sits between C2 (400) and C3 (250): whole, no plan; split, two grids
    atoms = [
        Atom("x1", 0, 0, 400, 1200, None, "C2"),
        Atom("m1", 30, 0, 80, 200, None, "C1"),
        Atom("m2", 60, 0, 200, 500, None, "C1"),
        Atom("y1", 90, 0, 100, 300, None, "C3"),
        Atom("y2", 120, 0, 150, 400, None, "C3"),
    ]
    edges = [Edge(i, i + 1, Barrier.wall if i in (0, 2) else Barrier.none) for i in range(4)]
    with pytest.raises(NoPlanError) as caught:
        plan(atoms, edges, polygons=False)
    assert {r.atoms[0] for r in caught.value.reasons if r.code == "isolated"} == {"C1", "C3"}
    result = plan(atoms, edges, polygons=False, allow_split={"C1"})
    assert sorted(u.households for u in result.units) == [450, 480]
    assert all(300 <= u.households <= 500 for u in result.units)
    assert result.compounds_split == 1 and result.compounds_split_avoidable == 0


def test_a_detached_part_too_small_for_a_unit_is_explained():
    atoms = row([100] * 8) + row([120], y=5000.0, start=10)  # 5 km away: no adjacency
    with pytest.raises(NoPlanError) as caught:
        plan(atoms)
    reason = caught.value.reasons[0]
    assert reason.code == "component_total" and reason.atoms == ("B10",)
    assert "detached part" in reason.en and "孤立片区" in reason.zh


def _no_partition_exists(weights, pairs, floor, ceiling):
    """Brute force, independent of the engine: no split of the nodes into connected groups within bounds."""
    import networkx as nx

    graph = nx.Graph(pairs)
    graph.add_nodes_from(range(len(weights)))

    def partitions(items):
        if not items:
            yield []
            return
        for groups in partitions(items[1:]):
            yield [[items[0]], *groups]
            for i in range(len(groups)):
                yield [*groups[:i], [items[0], *groups[i]], *groups[i + 1 :]]

    return not any(
        all(floor <= sum(weights[v] for v in g) <= ceiling and nx.is_connected(graph.subgraph(g)) for g in groups)
        for groups in partitions(list(range(len(weights))))
    )


def test_two_compounds_whose_only_partner_is_the_same_small_compound_are_explained():
    # the 100,000-building city's last 'stuck' neighbourhoods: C1234 (278) and C1236 (286) can each
    # join only C1233 (81) within 500 households; the three together hold 645, so no plan exists
    weights = [278, 286, 81, 283, 100, 437]
    names = ["C1234", "C1236", "C1233", "C1237", "C1240", "C1087"]
    pairs = [(0, 2), (1, 2), (0, 1), (0, 3), (1, 3), (3, 4), (3, 5), (0, 5), (4, 5)]
    atoms = [Atom(f"B{i}", 40.0 * i, 0, h, 3 * h, None, names[i]) for i, h in enumerate(weights)]
    edges = [Edge(a, b, Barrier.wall) for a, b in pairs]
    assert _no_partition_exists(weights, pairs, 300, 500)
    with pytest.raises(NoPlanError) as caught:
        plan(atoms, edges, polygons=False)
    assert not [r for r in caught.value.reasons if r.code in ("isolated", "stuck")]
    (reason,) = [r for r in caught.value.reasons if r.code == "forced"]
    assert reason.atoms[0] in {"C1234", "C1236"}
    other = "C1236" if reason.atoms[0] == "C1234" else "C1234"
    assert f"{other} ({weights[names.index(other)]}) can join no neighbour but C1233 (81)" in reason.en
    assert f"{other} + C1233" in reason.en and "不能拆分" in reason.zh and "别无选择" in reason.zh


def test_a_forced_pair_that_leaves_room_is_planned():
    # the same shape where C1236 can also join C1237 (now 200) and C1240 C1087 (now 380): a plan exists
    weights = [278, 286, 81, 200, 100, 380]
    names = ["C1234", "C1236", "C1233", "C1237", "C1240", "C1087"]
    pairs = [(0, 2), (1, 2), (0, 1), (0, 3), (1, 3), (3, 4), (3, 5), (0, 5), (4, 5)]
    atoms = [Atom(f"B{i}", 40.0 * i, 0, h, 3 * h, None, names[i]) for i, h in enumerate(weights)]
    assert not _no_partition_exists(weights, pairs, 300, 500)
    result = plan(atoms, [Edge(a, b, Barrier.wall) for a, b in pairs], polygons=False)
    assert result.ok and sorted(u.households for u in result.units) == [359, 480, 486]
