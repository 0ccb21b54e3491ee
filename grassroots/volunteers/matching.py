"""Needs ↔ resources: the best assignment, as a min-cost maximum flow (pure Python, no Django).

Given needs (category, position, demand) and resources (category, position, capacity), find the
amounts ``x[need, resource]`` that

1. cover as much demand as possible (Σ x is maximal), and then
2. among those, travel the least: Σ x × distance is minimal,

pairing only a need and a resource of the same category, optionally no farther apart than
``max_distance_m``, and never a pair listed in ``forbidden`` (a pairing someone declined).

The network is source → need (capacity = demand, cost 0) → resource (cost = distance in whole
metres) → sink (capacity = capacity), solved by networkx's ``max_flow_min_cost`` (a maximum flow,
then network simplex for the least cost among maximum flows). Costs are integers, so the optimum
is exact.

A need or resource without a position can still be paired when no maximum distance is set; the
pair then costs ``UNKNOWN_DISTANCE_M``, so any pair with a known position nearer than that wins.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

Position = tuple[float, float]  # (lon, lat) in degrees, WGS-84
UNKNOWN_DISTANCE_M = 50_000
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Demand:
    key: Hashable
    category: Hashable
    amount: int
    position: Position | None = None


@dataclass(frozen=True)
class Offer:
    key: Hashable
    category: Hashable
    capacity: int
    position: Position | None = None


@dataclass(frozen=True)
class Pairing:
    need: Hashable
    resource: Hashable
    amount: int
    distance_m: float | None  # None when a position is unknown


@dataclass(frozen=True)
class Assignment:
    pairings: list[Pairing]
    covered: int  # Σ amounts
    cost: int  # Σ amount × whole-metre distance (unknown distances count UNKNOWN_DISTANCE_M)


def haversine_m(a: Position, b: Position) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def pair_distance(
    need: Demand, offer: Offer, distance: Callable[[Position, Position], float] = haversine_m
) -> float | None:
    if need.position is None or offer.position is None:
        return None
    return distance(need.position, offer.position)


def pair_cost(distance_m: float | None) -> int:
    return UNKNOWN_DISTANCE_M if distance_m is None else round(distance_m)


def propose(
    needs: Sequence[Demand],
    offers: Sequence[Offer],
    *,
    max_distance_m: float | None = None,
    forbidden: Iterable[tuple[Hashable, Hashable]] = (),
    distance: Callable[[Position, Position], float] = haversine_m,
) -> Assignment:
    """The assignment covering the most demand at the least total distance (see the module doc)."""
    banned = set(forbidden)
    graph = nx.DiGraph()
    source, sink = ("source",), ("sink",)
    graph.add_nodes_from([source, sink])
    for i, need in enumerate(needs):
        if need.amount > 0:
            graph.add_edge(source, ("need", i), capacity=need.amount, weight=0)
    for j, offer in enumerate(offers):
        if offer.capacity > 0:
            graph.add_edge(("offer", j), sink, capacity=offer.capacity, weight=0)
    distances: dict[tuple[int, int], float | None] = {}
    for i, need in enumerate(needs):
        if need.amount <= 0:
            continue
        for j, offer in enumerate(offers):
            if offer.capacity <= 0 or offer.category != need.category or (need.key, offer.key) in banned:
                continue
            d = pair_distance(need, offer, distance)
            if max_distance_m is not None and (d is None or d > max_distance_m):
                continue
            distances[i, j] = d
            graph.add_edge(("need", i), ("offer", j), capacity=min(need.amount, offer.capacity), weight=pair_cost(d))
    # Maximum flow first, then the least cost among maximum flows (network simplex, integer costs).
    flow = nx.max_flow_min_cost(graph, source, sink)
    pairings = [
        Pairing(needs[i].key, offers[j].key, flow[("need", i)][("offer", j)], d)
        for (i, j), d in distances.items()
        if flow[("need", i)][("offer", j)] > 0
    ]
    covered = sum(p.amount for p in pairings)
    return Assignment(pairings=pairings, covered=covered, cost=int(nx.cost_of_flow(graph, flow)))


def score(distance_m: float | None) -> float:
    """A pairing's score for ordering proposals: 1 next door, falling with distance (0 when unknown)."""
    if distance_m is None:
        return 0.0
    return round(1.0 / (1.0 + distance_m / 1000.0), 4)
