"""The matching engine: optimal (max coverage, then least distance) against brute force."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from grassroots.volunteers.matching import (
    UNKNOWN_DISTANCE_M,
    Demand,
    Offer,
    Position,
    haversine_m,
    propose,
    score,
)


def manhattan(a: Position, b: Position) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def brute_force(
    needs: Sequence[Demand], offers: Sequence[Offer], max_distance: float | None, forbidden: set[tuple[int, int]]
) -> tuple[int, int]:
    """Enumerate every integer assignment; the best (covered, -cost) as (covered, cost)."""
    pairs = []
    for need in needs:
        for offer in offers:
            if need.category != offer.category or (need.key, offer.key) in forbidden:
                continue
            d = manhattan(need.position, offer.position) if need.position and offer.position else None
            if max_distance is not None and (d is None or d > max_distance):
                continue
            cost = UNKNOWN_DISTANCE_M if d is None else round(d)
            pairs.append((need.key, offer.key, cost))
    left_need = {n.key: n.amount for n in needs}
    left_offer = {o.key: o.capacity for o in offers}
    best = (0, 0)

    def walk(k: int, covered: int, cost: int) -> None:
        nonlocal best
        if k == len(pairs):
            if covered > best[0] or (covered == best[0] and cost < best[1]):
                best = (covered, cost)
            return
        need, offer, c = pairs[k]
        for x in range(min(left_need[need], left_offer[offer]) + 1):
            left_need[need] -= x
            left_offer[offer] -= x
            walk(k + 1, covered + x, cost + x * c)
            left_need[need] += x
            left_offer[offer] += x

    walk(0, 0, 0)
    return best


positions = st.one_of(st.none(), st.tuples(st.integers(0, 20), st.integers(0, 20)))


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Demand], list[Offer], float | None, set[tuple[int, int]]]:
    needs = [
        Demand(i, draw(st.sampled_from("ab")), draw(st.integers(0, 3)), draw(positions))
        for i in range(draw(st.integers(0, 3)))
    ]
    offers = [
        Offer(j, draw(st.sampled_from("ab")), draw(st.integers(0, 3)), draw(positions))
        for j in range(draw(st.integers(0, 3)))
    ]
    max_distance = draw(st.one_of(st.none(), st.integers(0, 30)))
    forbidden = draw(st.sets(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=2))
    return needs, offers, max_distance, forbidden


@settings(max_examples=300, deadline=None)
@given(cases())
def test_optimal_against_brute_force(
    case: tuple[list[Demand], list[Offer], float | None, set[tuple[int, int]]],
) -> None:
    needs, offers, max_distance, forbidden = case
    result = propose(needs, offers, max_distance_m=max_distance, forbidden=forbidden, distance=manhattan)
    assert (result.covered, result.cost) == brute_force(needs, offers, max_distance, forbidden)
    # The pairings are feasible and add up to what was reported.
    by_need: dict[object, int] = {}
    by_offer: dict[object, int] = {}
    need_of = {n.key: n for n in needs}
    offer_of = {o.key: o for o in offers}
    for p in result.pairings:
        assert need_of[p.need].category == offer_of[p.resource].category
        assert (p.need, p.resource) not in forbidden
        by_need[p.need] = by_need.get(p.need, 0) + p.amount
        by_offer[p.resource] = by_offer.get(p.resource, 0) + p.amount
    assert all(by_need[k] <= need_of[k].amount for k in by_need)
    assert all(by_offer[k] <= offer_of[k].capacity for k in by_offer)
    assert sum(p.amount for p in result.pairings) == result.covered


def test_not_first_come() -> None:
    # First-come would give the near resource to need 1 and leave need 2 uncovered.
    needs = [Demand("n1", "legal", 1, (0, 0)), Demand("n2", "legal", 1, (10, 0))]
    offers = [Offer("near", "legal", 1, (5, 0)), Offer("far", "legal", 1, (0, 3))]
    result = propose(needs, offers, max_distance_m=6, distance=manhattan)
    assert result.covered == 2
    assert {(p.need, p.resource) for p in result.pairings} == {("n1", "far"), ("n2", "near")}


def test_categories_never_mix_and_distance_prefers_near() -> None:
    needs = [Demand("n", "repair", 2, (0, 0))]
    offers = [
        Offer("medic", "medical", 5, (0, 0)),
        Offer("far", "repair", 2, (9, 9)),
        Offer("near", "repair", 1, (1, 0)),
    ]
    result = propose(needs, offers, distance=manhattan)
    assert result.covered == 2
    assert {p.resource: p.amount for p in result.pairings} == {"near": 1, "far": 1}


def test_unknown_positions_only_without_a_limit() -> None:
    needs = [Demand("n", "c", 1, None)]
    offers = [Offer("o", "c", 1, (0, 0))]
    assert propose(needs, offers).covered == 1
    assert propose(needs, offers, max_distance_m=1000).covered == 0


def test_haversine_and_score() -> None:
    # One hundredth of a degree of latitude is about 1.11 km.
    assert 1100 < haversine_m((120.95, 31.38), (120.95, 31.39)) < 1125
    assert haversine_m((120.0, 30.0), (120.0, 30.0)) == 0
    assert score(0) == 1.0
    assert score(None) == 0.0
    assert score(1000) == 0.5
